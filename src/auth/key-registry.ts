import { ProviderError } from "../providers/provider-error.js";
import type { Budget } from "../usage/budget-period.js";
import { keyAllowsModel, type ApiKeyRecord, type NewApiKey } from "./api-key.js";
import { keySecret } from "./key-secret.js";
import type { KeyStore } from "./key-store.js";

const unauthenticated = (message: string): ProviderError =>
  new ProviderError({ kind: "unauthenticated", provider: "", message });

/**
 * Client keys and tenant budgets in memory, loaded from the store at start and changed only through this
 * class (which writes the store first): checking a key is a hash and a map lookup, never a database read.
 */
export class KeyRegistry {
  readonly #byHash = new Map<string, ApiKeyRecord>();
  readonly #byId = new Map<string, ApiKeyRecord>();
  readonly #tenantBudgets: Map<string, Budget>;

  constructor(
    private readonly store: KeyStore,
    private readonly now: () => number = Date.now,
  ) {
    for (const key of store.keys()) this.#remember(key);
    this.#tenantBudgets = store.tenantBudgets();
  }

  /**
   * The active key an `authorization` header value names. Throws `unauthenticated` (never saying which of
   * missing, unknown or revoked, nor echoing the value) otherwise.
   */
  authenticate(authorization: string | null | undefined): ApiKeyRecord {
    const secret = keySecret.bearer(authorization);
    if (secret === undefined) throw unauthenticated("a client key is required: send authorization: Bearer <key>");
    const key = this.#byHash.get(keySecret.hash(secret));
    if (key === undefined || key.revokedAt !== undefined)
      throw unauthenticated("the client key is not valid (unknown or revoked)");
    return key;
  }

  /** Throws `permission_denied` unless `key` may use `model`. */
  authorize(key: ApiKeyRecord, model: string): void {
    if (keyAllowsModel(key, model)) return;
    throw new ProviderError({
      kind: "permission_denied",
      provider: "",
      message: `key ${key.id} may not use model "${model}"`,
    });
  }

  /** Issues a key; the secret is returned here only. */
  create(init: NewApiKey): { key: ApiKeyRecord; secret: string } {
    const made = keySecret.create();
    const key: ApiKeyRecord = {
      ...init,
      id: keySecret.newId(),
      secretHash: made.hash,
      secretPrefix: made.prefix,
      createdAt: this.now(),
      revokedAt: undefined,
    };
    this.store.insert(key);
    this.#remember(key);
    return { key, secret: made.secret };
  }

  /** Revokes a key at once; undefined when there is no such key. */
  revoke(id: string): ApiKeyRecord | undefined {
    const key = this.#byId.get(id);
    if (key === undefined) return undefined;
    if (key.revokedAt !== undefined) return key;
    const at = this.now();
    this.store.revoke(id, at);
    const revoked = { ...key, revokedAt: at };
    this.#remember(revoked);
    return revoked;
  }

  get(id: string): ApiKeyRecord | undefined {
    return this.#byId.get(id);
  }

  keys(): ApiKeyRecord[] {
    return [...this.#byId.values()];
  }

  tenantBudget(tenant: string): Budget | undefined {
    return this.#tenantBudgets.get(tenant);
  }

  tenantBudgets(): ReadonlyMap<string, Budget> {
    return this.#tenantBudgets;
  }

  /** Sets a tenant's budget; undefined removes it. */
  setTenantBudget(tenant: string, budget: Budget | undefined): void {
    this.store.setTenantBudget(tenant, budget, this.now());
    if (budget === undefined) this.#tenantBudgets.delete(tenant);
    else this.#tenantBudgets.set(tenant, budget);
  }

  #remember(key: ApiKeyRecord): void {
    this.#byHash.set(key.secretHash, key);
    this.#byId.set(key.id, key);
  }
}
