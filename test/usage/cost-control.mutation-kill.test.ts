// Kills mutants that survived `npm run test:mutation` in src/usage/cost-control.ts (see docs/testing.md,
// "Mutation testing"): CostControl was covered only by the e2e tests, which never looked at the reservation's
// amount, the max_tokens it sets, or a request type other than chat.
import { describe, expect, it } from "vitest";
import type { ApiKeyRecord } from "../../src/auth/api-key.js";
import { TokenEstimator } from "../../src/pipeline/rate-limit/tokens/token-estimator.js";
import type { ChatMessage } from "../../src/providers/provider.js";
import { BudgetBook } from "../../src/usage/budget-book.js";
import { formatMicros, type Budget } from "../../src/usage/budget-period.js";
import { CostControl, type Billable, type Caller, type PricedRoute } from "../../src/usage/cost-control.js";
import type { LedgerRecord } from "../../src/usage/ledger-record.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { providerErrorOf } from "../support/provider-error-of.js";

const noon = Date.parse("2025-03-15T12:00:00.000Z");
const live = (): AbortSignal => new AbortController().signal;

// 35 characters: ceil(35 / 3.5) = 10 tokens for a model without a public tokenizer; a chat message adds 3 + 1
// tokens of framing and the reply 3, so one such message is 17 prompt tokens.
const text35 = "x".repeat(35);
const messages: ChatMessage[] = [{ role: "user", content: text35 }];

// USD per million tokens = micro-USD per token.
const prices = (): PriceTable =>
  new PriceTable({
    "cheap-1": { input: 1, output: 2 },
    "dear-1": { input: 10.5, output: 30 },
    "cheap-2": { input: 1, output: 2 },
    "gpt-4o": { input: 1, output: 0 },
  });

/** Three targets, the priciest in the middle; the first one's provider defaults to 100 output tokens. */
const route: PricedRoute = {
  name: "smart",
  targets: [
    { provider: "p-cheap", providerType: "openai-compatible", model: "cheap-1" },
    { provider: "p-dear", providerType: "openai-compatible", model: "dear-1" },
    { provider: "p-cheap-2", providerType: "openai-compatible", model: "cheap-2" },
  ],
};

function key(budget: Budget | undefined): ApiKeyRecord {
  return {
    id: "key_a",
    secretHash: "h",
    secretPrefix: "p",
    tenant: "acme",
    name: "billing-svc",
    models: [],
    budget,
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    createdAt: 0,
    revokedAt: undefined,
  };
}
const caller = (budget: Budget | undefined): Caller => ({ keyId: "key_a", tenant: "acme", key: key(budget) });

const oneMicro: Budget = { limitMicros: 1, period: "total" };
const plenty: Budget = { limitMicros: 1_000_000_000, period: "total" };

interface Setup {
  control: CostControl;
  records: LedgerRecord[];
  ended: [string, string][];
  estimator: TokenEstimator;
}

function setup(options: { tenantBudget?: Budget; withEnded?: boolean } = {}): Setup {
  const records: LedgerRecord[] = [];
  const ended: [string, string][] = [];
  const estimator = new TokenEstimator({ defaultMaxTokens: 999 });
  const control = new CostControl({
    book: new BudgetBook({ maxWaitMs: 0, now: () => noon }),
    prices: prices(),
    estimator,
    defaultMaxTokens: new Map([["p-cheap", 100]]),
    tenantBudget: () => options.tenantBudget,
    record: (r) => records.push(r),
    ...(options.withEnded === true ? { ended: (model: string, status: string) => ended.push([model, status]) } : {}),
  });
  return { control, records, ended, estimator };
}

const identity = { requestId: "req-1", model: "smart", stream: false, startedAt: noon };
const chat = (maxTokens?: number): Billable => ({
  operation: "chat",
  request: maxTokens === undefined ? { messages } : { messages, maxTokens },
});

async function refusal(s: Setup, who: Caller, billable: Billable, on: PricedRoute = route): Promise<string> {
  const error = await providerErrorOf(s.control.open(identity, who, on, billable, live(), undefined));
  expect(error.kind).toBe("budget_exceeded");
  return error.message;
}

describe("CostControl.open reserves the most the call can cost", () => {
  it("at the priciest target of the route, with the first target's default output allowance, rounded up to a micro-dollar", async () => {
    // dear-1: 17 prompt tokens x 10.5 + 100 output tokens x 30 = 3178.5 micro-USD, held as 3179.
    expect(await refusal(setup(), caller(oneMicro), chat())).toContain("this call may cost up to $0.003179");
  });

  it("with the request's own max_tokens as the output allowance", async () => {
    // dear-1: 17 x 10.5 + 10 x 30 = 478.5 -> 479.
    expect(await refusal(setup(), caller(oneMicro), chat(10))).toContain("this call may cost up to $0.000479");
  });

  it("for a text completion, from its prompt alone (no chat framing)", async () => {
    // dear-1: 10 x 10.5 + 100 x 30 = 3105.
    const message = await refusal(setup(), caller(oneMicro), {
      operation: "text_completion",
      request: { prompt: text35 },
    });
    expect(message).toContain("this call may cost up to $0.003105");
  });

  it("for embeddings, their input only: an embedding has no output tokens", async () => {
    // dear-1: 10 x 10.5 = 105.
    const message = await refusal(setup(), caller(oneMicro), {
      operation: "embeddings",
      request: { inputs: [text35] },
    });
    expect(message).toContain("this call may cost up to $0.000105");
  });

  it("when only the tenant has a budget", async () => {
    const message = await refusal(setup({ tenantBudget: oneMicro }), caller(undefined), chat());
    expect(message).toContain("tenant acme has a total budget of $0.000001");
    expect(message).toContain("this call may cost up to $0.003179");
  });

  it("estimating the prompt with the tokenizer of the route's first target, not the route's name", async () => {
    const s = setup();
    const long: ChatMessage[] = [{ role: "user", content: "hello world ".repeat(20) }];
    const byTokenizer = (await s.estimator.chat({ model: "gpt-4o", messages: long })).promptTokens;
    const byName = (await s.estimator.chat({ model: "smart", messages: long })).promptTokens;
    expect(byTokenizer).not.toBe(byName);
    const gpt: PricedRoute = {
      name: "smart",
      targets: [{ provider: "p-cheap", providerType: "openai-compatible", model: "gpt-4o" }],
    };
    // gpt-4o here: 1 micro-USD per prompt token, output free.
    const message = await refusal(s, caller(oneMicro), { operation: "chat", request: { messages: long } }, gpt);
    expect(message).toContain(`this call may cost up to ${formatMicros(byTokenizer)}`);
  });
});

describe("CostControl.open sets max_tokens only when a budget needs a bound", () => {
  const open = async (s: Setup, who: Caller, billable: Billable): Promise<number | undefined> =>
    (await s.control.open(identity, who, route, billable, live(), undefined)).maxTokens;

  it("a budgeted chat without max_tokens is sent the first target's default", async () => {
    expect(await open(setup(), caller(plenty), chat())).toBe(100);
  });

  it("a chat with max_tokens keeps it", async () => {
    expect(await open(setup(), caller(plenty), chat(50))).toBe(50);
  });

  it("a chat without any budget is sent as asked", async () => {
    expect(await open(setup(), caller(undefined), chat())).toBeUndefined();
  });

  it("embeddings never get max_tokens", async () => {
    expect(
      await open(setup(), caller(plenty), { operation: "embeddings", request: { inputs: [text35] } }),
    ).toBeUndefined();
  });
});

describe("CostControl budgets and accounts", () => {
  it("applies no budget when keys are off, and the key's and the tenant's when a key calls", () => {
    const s = setup({ tenantBudget: plenty });
    expect(s.control.scopesOf({ keyId: "", tenant: "acme", key: undefined })).toEqual([]);
    expect(s.control.scopesOf(caller(oneMicro))).toEqual([
      {
        scope: "key:key_a",
        kind: "key",
        tenant: "acme",
        keyId: "key_a",
        label: 'key key_a ("billing-svc")',
        budget: oneMicro,
      },
      { scope: "tenant:acme", kind: "tenant", tenant: "acme", label: "tenant acme", budget: plenty },
    ]);
  });

  it("finishes an account without an `ended` listener, and drain waits for its ledger record", async () => {
    const s = setup();
    const { account } = await s.control.open(identity, caller(plenty), route, chat(), live(), undefined);
    account.bill(
      {
        type: "attempt",
        provider: "p-cheap",
        providerType: "openai-compatible",
        model: "cheap-1",
        operation: "chat",
        stream: false,
        startedAt: noon,
        endedAt: noon + 5,
        chunks: 0,
        usage: { promptTokens: 17, completionTokens: 3, totalTokens: 20, cachedPromptTokens: 0, cacheWriteTokens: 0 },
      },
      "",
    );
    s.control.finish(account, { status: "ok", servedBy: { provider: "p-cheap", model: "cheap-1" } });
    await s.control.drain();
    expect(s.records).toHaveLength(1);
    expect(s.records[0]).toMatchObject({
      id: "req-1",
      model: "smart",
      provider: "p-cheap",
      status: "ok",
      costMicros: 23n,
    });
  });

  it("tells `ended` of every finished call", async () => {
    const s = setup({ withEnded: true });
    const { account } = await s.control.open(identity, caller(undefined), route, chat(), live(), undefined);
    s.control.finish(account, { status: "unavailable", servedBy: undefined });
    await s.control.drain();
    expect(s.ended).toEqual([["smart", "unavailable"]]);
    expect(s.records).toEqual([]);
  });
});
