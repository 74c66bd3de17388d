import type { ProviderType } from "../config/provider-type.js";
import type { AttemptRecord } from "../providers/call-context.js";
import type { TokenUsage } from "../providers/provider.js";
import { billAttempt } from "./attempt-billing.js";
import type { BudgetHold } from "./budget-book.js";
import type { AttemptBill, LedgerRecord } from "./ledger-record.js";
import { mostCostPicos } from "./most-cost.js";
import type { PriceTable } from "./price-table.js";

/** What a call account needs from the gateway's cost control. */
export interface AccountDeps {
  prices: PriceTable;
  /** Counts the tokens of a text a model produced (the delivered part of a broken stream). */
  countText(model: string, text: string): Promise<number>;
  /** Receives the finished request's ledger record (only for requests that reached a provider). */
  record(record: LedgerRecord): void;
}

/** Who a call is for and what it is, for its ledger record. */
export interface AccountIdentity {
  requestId: string;
  tenant: string;
  keyId: string;
  model: string;
  operation: LedgerRecord["operation"];
  stream: boolean;
  startedAt: number;
}

/** A request's cost so far: the sum of its billed attempts. */
export interface AccountCost {
  micros: bigint;
  picos: bigint;
  /** Some billed attempt has no known price or usage. */
  unknown: boolean;
}

/** How a request ended, for its ledger record. */
export interface AccountOutcome {
  /** `ok` or the error kind it ended with. */
  status: string;
  /** The target that answered or, for a failed request, undefined (the last attempt's target is recorded). */
  servedBy: { provider: string; model: string } | undefined;
}

const noUsage = (): TokenUsage => ({
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
});

/**
 * The money side of one call, from its first reservation to its ledger record. The attempt recorder tells it
 * when each attempt starts (`beforeAttempt`: the budget hold is topped up to what was billed so far plus
 * the most this attempt can cost) and ends (`bill`); the gateway reads the cost for the answer's metadata
 * and `finish`es it, which settles the budgets with the same figures the ledger record holds.
 */
export class CallAccount {
  readonly #bills: Promise<AttemptBill>[] = [];
  readonly #billed = new WeakSet<AttemptRecord>();
  #finished = false;

  constructor(
    private readonly deps: AccountDeps,
    private readonly identity: AccountIdentity,
    private readonly hold: BudgetHold,
    /** The gateway's estimate of the prompt's tokens. */
    readonly promptTokens: number,
    /** The output tokens an attempt may produce (the request's max_tokens, or the one the gateway set). */
    readonly maxTokens: number,
    private readonly signal: AbortSignal,
    private readonly deadline: number | undefined,
  ) {}

  /** The model name the client asked for. */
  get model(): string {
    return this.identity.model;
  }

  /** Whether any budget applies (then attempts are priced before they are made). */
  get budgeted(): boolean {
    return this.hold.held.length > 0;
  }

  /** Tops the budget hold up to what was billed so far plus the most an attempt on this target can cost. */
  async beforeAttempt(
    providerType: ProviderType,
    model: string,
    maxTokens: number | undefined,
    extraPromptChars = 0,
  ): Promise<void> {
    if (!this.budgeted) return;
    const billed = await this.cost();
    const prompt = this.promptTokens + Math.ceil((extraPromptChars * 2) / 7);
    const output = maxTokens ?? this.maxTokens;
    const most = mostCostPicos(this.deps.prices, providerType, model, prompt, output);
    const needPicos = billed.picos + most;
    await this.hold.ensure(Number((needPicos + 999_999n) / 1_000_000n), this.signal, this.deadline);
  }

  /** Bills an ended attempt (once; a later call for the same record is ignored). */
  bill(record: AttemptRecord, deliveredText: string): void {
    if (this.#billed.has(record)) return;
    this.#billed.add(record);
    const counted =
      deliveredText === ""
        ? Promise.resolve(0)
        : this.deps.countText(record.model, deliveredText).catch(() => Math.ceil((deliveredText.length * 2) / 7));
    this.#bills.push(
      counted.then((deliveredTokens) =>
        billAttempt({ record, promptEstimate: this.promptTokens, deliveredTokens }, this.deps.prices),
      ),
    );
  }

  /** The sum of the billed attempts so far, rounded half up to micro-USD once. */
  async cost(): Promise<AccountCost> {
    const bills = await Promise.all(this.#bills);
    let picos = 0n;
    let unknown = false;
    for (const bill of bills) {
      if (!bill.billed) continue;
      picos += bill.costPicos;
      unknown ||= bill.costUnknown;
    }
    return { picos, micros: (picos + 500_000n) / 1_000_000n, unknown };
  }

  /** Settles the budgets with the request's cost and hands its ledger record over (once). */
  async finish(outcome: AccountOutcome): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    const attempts = await Promise.all(this.#bills);
    const cost = await this.cost();
    const endedAt = Date.now();
    const spend = this.hold.settle(Number(cost.micros), endedAt);
    const last = attempts.at(-1);
    if (last === undefined) return;
    const usage = noUsage();
    let estimated = false;
    for (const a of attempts) {
      if (!a.billed) continue;
      usage.promptTokens += a.usage.promptTokens;
      usage.completionTokens += a.usage.completionTokens;
      usage.totalTokens += a.usage.totalTokens;
      usage.cachedPromptTokens += a.usage.cachedPromptTokens;
      usage.cacheWriteTokens += a.usage.cacheWriteTokens;
      estimated ||= a.estimated;
    }
    const { identity } = this;
    this.deps.record({
      id: identity.requestId,
      startedAt: identity.startedAt,
      endedAt,
      tenant: identity.tenant,
      keyId: identity.keyId,
      model: identity.model,
      provider: outcome.servedBy?.provider ?? last.provider,
      providerModel: outcome.servedBy?.model ?? last.model,
      operation: identity.operation,
      stream: identity.stream,
      status: outcome.status,
      attempts,
      usage,
      costMicros: cost.micros,
      costPicos: cost.picos,
      costUnknown: cost.unknown,
      estimated,
      spend,
    });
  }
}
