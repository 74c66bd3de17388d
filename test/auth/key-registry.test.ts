import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { NewApiKey } from "../../src/auth/api-key.js";
import { KeyRegistry } from "../../src/auth/key-registry.js";
import { keySecret } from "../../src/auth/key-secret.js";
import { KeyStore } from "../../src/auth/key-store.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";

const newKey = (overrides: Partial<NewApiKey> = {}): NewApiKey => ({
  tenant: "acme",
  name: "billing-svc",
  models: [],
  budget: undefined,
  requestsPerMinute: undefined,
  tokensPerMinute: undefined,
  ...overrides,
});

/** The ProviderError `fn` throws. */
function thrown(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected a ProviderError");
}

const dirs: string[] = [];
const open: UsageDatabase[] = [];
function tempDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "llmgw-keys-"));
  dirs.push(dir);
  return join(dir, "gateway.db");
}
function openDb(path: string): UsageDatabase {
  const db = openUsageDatabase(path);
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("KeyRegistry with a KeyStore", () => {
  it("stores only the secret's SHA-256 hash, never the secret", () => {
    const db = openDb(":memory:");
    const registry = new KeyRegistry(new KeyStore(db), () => 1_700_000_000_000);
    const { key, secret } = registry.create(newKey({ models: ["gpt-4o"] }));
    expect(secret.startsWith("llmgw_")).toBe(true);
    const rows = db.prepare("SELECT * FROM api_keys").all() as Record<string, unknown>[];
    expect(rows).toHaveLength(1);
    const row = rows[0] ?? {};
    expect(row["secret_hash"]).toBe(keySecret.hash(secret));
    expect(row["secret_prefix"]).toBe(secret.slice(0, 10));
    expect(row["id"]).toBe(key.id);
    expect(row["created_at"]).toBe(1_700_000_000_000);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(10));
    expect(JSON.stringify(key)).not.toContain(secret);
  });

  it("authenticates a bearer secret, with any case of 'Bearer'", () => {
    const registry = new KeyRegistry(new KeyStore(openDb(":memory:")));
    const { key, secret } = registry.create(newKey());
    registry.create(newKey({ name: "other" }));
    expect(registry.authenticate(`Bearer ${secret}`).id).toBe(key.id);
    expect(registry.authenticate(`bearer ${secret}`).id).toBe(key.id);
    expect(registry.authenticate(`BEARER ${secret}`).name).toBe("billing-svc");
  });

  it("refuses missing, non-Bearer, unknown and revoked keys as unauthenticated without echoing them", () => {
    const registry = new KeyRegistry(new KeyStore(openDb(":memory:")));
    const { key, secret } = registry.create(newKey());
    const revoked = registry.create(newKey({ name: "old" }));
    registry.revoke(revoked.key.id);
    const unknown = keySecret.create().secret;
    const presented: (string | undefined | null)[] = [
      undefined,
      null,
      "",
      `Basic ${secret}`,
      secret,
      `Token ${secret}`,
      `Bearer ${unknown}`,
      `Bearer ${revoked.secret}`,
      `Bearer ${secret}x`,
    ];
    for (const value of presented) {
      const error = thrown(() => registry.authenticate(value));
      expect(error.kind).toBe("unauthenticated");
      const token = value?.split(/\s+/).at(-1) ?? "";
      if (token !== "") expect(error.message).not.toContain(token);
      expect(error.message).not.toContain(secret);
    }
    expect(registry.authenticate(`Bearer ${secret}`).id).toBe(key.id);
  });

  it("persists a revocation: a new registry on the same file sees the key revoked", () => {
    const path = tempDbPath();
    const first = openDb(path);
    let t = 1_000;
    const registry = new KeyRegistry(new KeyStore(first), () => t);
    const { key, secret } = registry.create(newKey());
    t = 5_000;
    const revoked = registry.revoke(key.id);
    expect(revoked?.revokedAt).toBe(5_000);
    t = 9_000;
    expect(registry.revoke(key.id)?.revokedAt).toBe(5_000);
    expect(registry.revoke("key_missing")).toBeUndefined();
    expect(registry.get(key.id)?.revokedAt).toBe(5_000);
    first.close();

    const again = new KeyRegistry(new KeyStore(openDb(path)));
    expect(again.get(key.id)?.revokedAt).toBe(5_000);
    expect(thrown(() => again.authenticate(`Bearer ${secret}`)).kind).toBe("unauthenticated");
  });

  it("reloads keys with their models, budget and limits", () => {
    const path = tempDbPath();
    const registry = new KeyRegistry(new KeyStore(openDb(path)), () => 42);
    const { key, secret } = registry.create(
      newKey({
        models: ["gpt-4o", "claude-sonnet-4"],
        budget: { limitMicros: 2_500_000, period: "month" },
        requestsPerMinute: 60,
        tokensPerMinute: 9_000,
      }),
    );
    open[0]?.close();
    const again = new KeyRegistry(new KeyStore(openDb(path)));
    expect(again.keys()).toEqual([key]);
    expect(again.authenticate(`Bearer ${secret}`)).toEqual({
      id: key.id,
      secretHash: keySecret.hash(secret),
      secretPrefix: secret.slice(0, 10),
      tenant: "acme",
      name: "billing-svc",
      models: ["gpt-4o", "claude-sonnet-4"],
      budget: { limitMicros: 2_500_000, period: "month" },
      requestsPerMinute: 60,
      tokensPerMinute: 9_000,
      createdAt: 42,
      revokedAt: undefined,
    });
  });

  it("persists tenant budgets, their changes and their removal", () => {
    const path = tempDbPath();
    const registry = new KeyRegistry(new KeyStore(openDb(path)));
    registry.setTenantBudget("acme", { limitMicros: 10_000_000, period: "day" });
    registry.setTenantBudget("globex", { limitMicros: 1, period: "total" });
    registry.setTenantBudget("globex", { limitMicros: 3_000_000, period: "month" });
    expect(registry.tenantBudget("globex")).toEqual({ limitMicros: 3_000_000, period: "month" });
    open[0]?.close();

    const again = new KeyRegistry(new KeyStore(openDb(path)));
    expect(again.tenantBudget("acme")).toEqual({ limitMicros: 10_000_000, period: "day" });
    expect(again.tenantBudget("globex")).toEqual({ limitMicros: 3_000_000, period: "month" });
    expect(again.tenantBudget("initech")).toBeUndefined();
    again.setTenantBudget("acme", undefined);
    expect(again.tenantBudget("acme")).toBeUndefined();
    open[1]?.close();

    const third = new KeyRegistry(new KeyStore(openDb(path)));
    expect([...third.tenantBudgets().keys()]).toEqual(["globex"]);
  });

  it("authorizes only the key's models, every model when the list is empty", () => {
    const registry = new KeyRegistry(new KeyStore(openDb(":memory:")));
    const limited = registry.create(newKey({ models: ["gpt-4o"] })).key;
    const unrestricted = registry.create(newKey({ name: "any" })).key;
    expect(() => registry.authorize(limited, "gpt-4o")).not.toThrow();
    const error = thrown(() => registry.authorize(limited, "gpt-4o-mini"));
    expect(error.kind).toBe("permission_denied");
    expect(error.message).toContain(limited.id);
    expect(() => registry.authorize(unrestricted, "anything")).not.toThrow();
  });
});
