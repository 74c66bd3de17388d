import type { ApiKeyRecord } from "../auth/api-key.js";
import type { ProviderType } from "../config/provider-type.js";
import type { ChatRequest, CompletionRequest, EmbedRequest } from "../providers/provider.js";
import type { TokenEstimator } from "../pipeline/rate-limit/tokens/token-estimator.js";
import type { BudgetBook, BudgetScope } from "./budget-book.js";
import { CallAccount, type AccountIdentity, type AccountOutcome } from "./call-account.js";
import type { Budget } from "./budget-period.js";
import type { LedgerRecord } from "./ledger-record.js";
import { mostCostPicos } from "./most-cost.js";
import type { PriceTable } from "./price-table.js";

/** Who is calling: the client key (when keys are on) and the tenant it bills to. */
export interface Caller {
  /** The key's id; "" when key checking is off. */
  keyId: string;
  /** The key's tenant; with keys off, the request metadata's `tenant` (untrusted: no budget applies). */
  tenant: string;
  key: ApiKeyRecord | undefined;
}

/** A request as cost control sees it before routing: its operation and fields (model not yet resolved). */
export type Billable =
  | { operation: "chat"; request: Omit<ChatRequest, "model"> }
  | { operation: "text_completion"; request: Omit<CompletionRequest, "model"> }
  | { operation: "embeddings"; request: Omit<EmbedRequest, "model"> };

/** The targets of a route, as cost control prices them. */
export interface PricedRoute {
  name: string;
  targets: readonly { provider: string; providerType: ProviderType; model: string }[];
}

/** What cost control is built from. */
export interface CostControlOptions {
  book: BudgetBook;
  prices: PriceTable;
  estimator: TokenEstimator;
  /** Each provider's `defaultMaxTokens`: the output allowance of a budgeted request without max_tokens. */
  defaultMaxTokens: ReadonlyMap<string, number>;
  /** A tenant's budget, when one is set. */
  tenantBudget(tenant: string): Budget | undefined;
  /** Receives every finished request that reached a provider. */
  record(record: LedgerRecord): void;
  /** Told of every finished request, whether or not it reached a provider (a model's error rate). */
  ended?(model: string, status: string): void;
}

/** A call's account and the max_tokens to send (set by the gateway when a budget needs a bound). */
export interface OpenedAccount {
  account: CallAccount;
  maxTokens: number | undefined;
}

/**
 * The gateway's cost control: before a call it estimates the most the call can cost at the priciest target
 * of its route (prompt estimate plus max_tokens, or the first target's default, which is then sent as the
 * request's max_tokens so no answer can outgrow its reservation) and reserves it against the key's and the
 * tenant's budgets together; the returned account follows the call's attempts, settles the budgets and
 * hands the ledger its record.
 */
export class CostControl {
  readonly #finishing = new Set<Promise<void>>();

  constructor(private readonly options: CostControlOptions) {}

  /** Finishes a call's account (settles its budgets, queues its ledger record), tracked until done. */
  finish(account: CallAccount, outcome: AccountOutcome): void {
    this.options.ended?.(account.model, outcome.status);
    const done = account.finish(outcome).finally(() => this.#finishing.delete(done));
    this.#finishing.add(done);
  }

  /** Resolves once every finished call's record has been handed to the ledger. */
  async drain(): Promise<void> {
    while (this.#finishing.size > 0) await Promise.allSettled([...this.#finishing]);
  }

  /** The budgets that apply to a caller: its key's and its tenant's (none when keys are off). */
  scopesOf(caller: Caller): BudgetScope[] {
    if (caller.key === undefined) return [];
    const { key } = caller;
    return [
      {
        scope: `key:${key.id}`,
        kind: "key",
        tenant: key.tenant,
        keyId: key.id,
        label: `key ${key.id} ("${key.name}")`,
        budget: key.budget,
      },
      {
        scope: `tenant:${key.tenant}`,
        kind: "tenant",
        tenant: key.tenant,
        label: `tenant ${key.tenant}`,
        budget: this.options.tenantBudget(key.tenant),
      },
    ];
  }

  /** Opens the account of one call; fails with `budget_exceeded` when its reservation cannot be made. */
  async open(
    identity: Omit<AccountIdentity, "operation" | "keyId" | "tenant">,
    caller: Caller,
    route: PricedRoute,
    billable: Billable,
    signal: AbortSignal,
    deadline: number | undefined,
  ): Promise<OpenedAccount> {
    const { book, prices } = this.options;
    const scopes = this.scopesOf(caller);
    const budgeted = scopes.some((s) => s.budget !== undefined);
    const first = route.targets[0];
    const requested = "maxTokens" in billable.request ? billable.request.maxTokens : undefined;
    const allowance =
      billable.operation === "embeddings"
        ? 0
        : (requested ?? (first ? this.options.defaultMaxTokens.get(first.provider) : undefined) ?? 4096);
    const maxTokens =
      billable.operation !== "embeddings" && requested === undefined && budgeted ? allowance : requested;
    const promptTokens = await this.#estimate(billable, first?.model ?? route.name, maxTokens);
    let mostPicos = 0n;
    if (budgeted) {
      for (const t of route.targets) {
        const cost = mostCostPicos(prices, t.providerType, t.model, promptTokens, allowance);
        if (cost > mostPicos) mostPicos = cost;
      }
    }
    const hold = await book.reserve(scopes, Number((mostPicos + 999_999n) / 1_000_000n), signal, deadline);
    const account = new CallAccount(
      {
        prices,
        countText: (model, text) => this.options.estimator.text(model, text),
        record: (r) => this.options.record(r),
      },
      { ...identity, operation: billable.operation, keyId: caller.keyId, tenant: caller.tenant },
      hold,
      promptTokens,
      allowance,
      signal,
      deadline,
    );
    return { account, maxTokens };
  }

  #estimate(billable: Billable, model: string, maxTokens: number | undefined): Promise<number> {
    const { estimator } = this.options;
    const bound = maxTokens === undefined ? {} : { maxTokens };
    switch (billable.operation) {
      case "chat":
        return estimator.chat({ ...billable.request, ...bound, model }).then((e) => e.promptTokens);
      case "text_completion":
        return estimator.completion({ ...billable.request, ...bound, model }).then((e) => e.promptTokens);
      case "embeddings":
        return estimator.embed({ ...billable.request, model }).then((e) => e.promptTokens);
    }
  }
}
