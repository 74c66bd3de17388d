// Kills mutants that survived `npm run test:mutation` in src/usage/attempt-billing.ts, call-account.ts,
// most-cost.ts and price-table.ts (see docs/testing.md, "Mutation testing"). Price tables are built inside
// each test: Stryker's per-test coverage does not see code that runs while a test file loads.
import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../src/providers/call-context.js";
import { billAttempt } from "../../src/usage/attempt-billing.js";
import { BudgetBook } from "../../src/usage/budget-book.js";
import { CallAccount } from "../../src/usage/call-account.js";
import type { LedgerRecord } from "../../src/usage/ledger-record.js";
import { mostCostPicos } from "../../src/usage/most-cost.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { tokens } from "./ledger-fixtures.js";

const live = (): AbortSignal => new AbortController().signal;

function attempt(overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    type: "attempt",
    provider: "openai-main",
    providerType: "openai",
    model: "gpt-4o",
    operation: "chat",
    stream: false,
    startedAt: 100,
    endedAt: 350,
    chunks: 0,
    ...overrides,
  };
}

describe("billAttempt, edge cases", () => {
  it("estimates a stream that finished without usage even when it delivered no text", () => {
    const record = attempt({
      stream: true,
      chunks: 0,
      usage: { ...tokens(0, 0), missing: true },
      finishReason: "stop",
    });
    const bill = billAttempt({ record, promptEstimate: 80, deliveredTokens: 0 }, new PriceTable());
    expect(bill).toMatchObject({
      status: "ok",
      billed: true,
      usage: tokens(80, 0),
      costPicos: 80n * 2_500_000n,
      costUnknown: false,
      estimated: true,
    });
  });

  it("does not bill an attempt that ended with neither an answer nor an error", () => {
    const bill = billAttempt({ record: attempt(), promptEstimate: 80, deliveredTokens: 0 }, new PriceTable());
    expect(bill).toMatchObject({ status: "ok", billed: false, usage: tokens(0, 0), costPicos: 0n, estimated: false });
  });
});

describe("PriceTable, built per test", () => {
  it("prices a shipped model", () => {
    // gpt-4o: 2.5 USD in, 10 USD out per million tokens.
    expect(new PriceTable().cost("openai", ["gpt-4o"], tokens(1_000, 100))).toEqual({
      picos: 3_500_000_000n,
      micros: 3_500n,
      known: true,
    });
  });

  it("bills cached and cache-written prompt tokens at a configured model's own prices", () => {
    const prices = new PriceTable({ "my-model": { input: 2, output: 4, cachedInput: 0.5, cacheWrite: 3 } });
    // 40 fresh x 2 + 40 cached x 0.5 + 20 written x 3 + 10 out x 4 = 200 micro-USD.
    expect(prices.cost("openai-compatible", ["my-model"], tokens(100, 10, 40, 20))).toEqual({
      picos: 200_000_000n,
      micros: 200n,
      known: true,
    });
  });
});

describe("mostCostPicos", () => {
  it("prices the prompt at the input price when a cache write would cost less", () => {
    const prices = new PriceTable({ m: { input: 10, output: 20, cacheWrite: 5 } });
    // 100 prompt x 10 + 10 out x 20 = 1200 micro-USD (cache-written: 100 x 5 + 200 = 700).
    expect(mostCostPicos(prices, "openai-compatible", "m", 100, 10)).toBe(1_200_000_000n);
  });
});

describe("CallAccount.finish", () => {
  it("sums the cache-write tokens of the billed attempts into the ledger record", async () => {
    const book = new BudgetBook({ maxWaitMs: 0 });
    const hold = await book.reserve([], 0, live(), undefined);
    const records: LedgerRecord[] = [];
    const account = new CallAccount(
      { prices: new PriceTable(), countText: async () => 0, record: (r) => records.push(r) },
      { requestId: "r", tenant: "acme", keyId: "", model: "claude", operation: "chat", stream: false, startedAt: 0 },
      hold,
      10,
      100,
      live(),
      undefined,
    );
    account.bill(
      attempt({ providerType: "anthropic", model: "claude-sonnet-4", error: { kind: "unavailable", message: "x" } }),
      "",
    );
    account.bill(
      attempt({ providerType: "anthropic", model: "claude-sonnet-4", usage: tokens(1_000, 10, 200, 300) }),
      "",
    );
    account.bill(attempt({ providerType: "anthropic", model: "claude-sonnet-4", usage: tokens(500, 10, 0, 100) }), "");
    await account.finish({ status: "ok", servedBy: undefined });
    expect(records[0]?.usage).toEqual({
      promptTokens: 1_500,
      completionTokens: 20,
      totalTokens: 1_520,
      cachedPromptTokens: 200,
      cacheWriteTokens: 400,
    });
  });
});
