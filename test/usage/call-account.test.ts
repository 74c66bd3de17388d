import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../src/providers/call-context.js";
import { BudgetBook, type BudgetHold, type BudgetScope } from "../../src/usage/budget-book.js";
import { CallAccount, type AccountIdentity } from "../../src/usage/call-account.js";
import type { LedgerRecord } from "../../src/usage/ledger-record.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { providerErrorOf } from "../support/provider-error-of.js";
import { tokens } from "./ledger-fixtures.js";

const noon = Date.parse("2025-03-15T12:00:00.000Z");
const prices = new PriceTable();
const live = (): AbortSignal => new AbortController().signal;

const identity: AccountIdentity = {
  requestId: "req-42",
  tenant: "acme",
  keyId: "key_a",
  model: "fast",
  operation: "chat",
  stream: false,
  startedAt: 1_000,
};

const keyScope = (limitMicros: number | undefined): BudgetScope => ({
  scope: "key:key_a",
  kind: "key",
  tenant: "acme",
  keyId: "key_a",
  label: 'key key_a ("svc")',
  budget: limitMicros === undefined ? undefined : { limitMicros, period: "total" },
});

function attempt(overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    type: "attempt",
    provider: "openai-main",
    providerType: "openai",
    model: "gpt-4o-mini",
    operation: "chat",
    stream: false,
    startedAt: 100,
    endedAt: 200,
    chunks: 0,
    ...overrides,
  };
}

interface Setup {
  account: CallAccount;
  hold: BudgetHold;
  book: BudgetBook;
  records: LedgerRecord[];
  counted: string[];
}

async function setup(
  options: {
    limitMicros?: number;
    promptTokens?: number;
    maxTokens?: number;
    countText?: (text: string) => Promise<number>;
  } = {},
): Promise<Setup> {
  const book = new BudgetBook({ maxWaitMs: 0, now: () => noon });
  const hold = await book.reserve([keyScope(options.limitMicros)], 0, live(), undefined);
  const records: LedgerRecord[] = [];
  const counted: string[] = [];
  const countText = options.countText ?? (async (text: string) => text.split(" ").length);
  const account = new CallAccount(
    {
      prices,
      countText: (_model, text) => {
        counted.push(text);
        return countText(text);
      },
      record: (r) => records.push(r),
    },
    identity,
    hold,
    options.promptTokens ?? 3,
    options.maxTokens ?? 100,
    live(),
    undefined,
  );
  return { account, hold, book, records, counted };
}

describe("CallAccount.cost", () => {
  it("adds attempts in picos and rounds half up once", async () => {
    const { account } = await setup();
    // gpt-4o-mini input is 150_000 pico-USD per token: 3 tokens are 450_000 picos, each 0 µ$ on its own.
    account.bill(attempt({ usage: tokens(3, 0) }), "");
    account.bill(attempt({ usage: tokens(3, 0) }), "");
    const cost = await account.cost();
    expect(cost).toEqual({ picos: 900_000n, micros: 1n, unknown: false });
    // Rounded per attempt, the sum would be 0 µ$.
    expect(prices.cost("openai", ["gpt-4o-mini"], tokens(3, 0)).micros * 2n).toBe(0n);
  });

  it("ignores unbilled attempts and says when a billed one is unknown", async () => {
    const { account } = await setup();
    account.bill(attempt({ error: { kind: "unavailable", message: "503" } }), "");
    expect(await account.cost()).toEqual({ picos: 0n, micros: 0n, unknown: false });
    account.bill(attempt({ usage: { ...tokens(0, 0), missing: true } }), "");
    expect((await account.cost()).unknown).toBe(true);
  });

  it("bills each attempt record once", async () => {
    const { account } = await setup();
    const record = attempt({ usage: tokens(10, 0) });
    account.bill(record, "");
    account.bill(record, "");
    expect((await account.cost()).picos).toBe(1_500_000n);
  });

  it("counts a broken stream's delivered text, falling back to a length estimate when counting fails", async () => {
    const ok = await setup({ promptTokens: 10 });
    ok.account.bill(
      attempt({ stream: true, chunks: 3, error: { kind: "unavailable", message: "cut" } }),
      "one two three four",
    );
    expect(ok.counted).toEqual(["one two three four"]);
    expect((await ok.account.cost()).picos).toBe(10n * 150_000n + 4n * 600_000n);

    const failing = await setup({ promptTokens: 10, countText: () => Promise.reject(new Error("no tokenizer")) });
    failing.account.bill(
      attempt({ stream: true, chunks: 3, error: { kind: "unavailable", message: "cut" } }),
      "x".repeat(35),
    );
    // ceil(35 * 2 / 7) = 10 tokens
    expect((await failing.account.cost()).picos).toBe(10n * 150_000n + 10n * 600_000n);
  });
});

describe("CallAccount.finish", () => {
  it("hands one ledger record with the billed attempts' usage summed and settles the budget with its cost", async () => {
    const { account, book, records } = await setup({ limitMicros: 1_000_000 });
    account.bill(attempt({ provider: "openai-main", error: { kind: "timeout", message: "slow" } }), "");
    account.bill(attempt({ provider: "azure-eu", error: { kind: "unavailable", message: "503" } }), "");
    account.bill(attempt({ provider: "openai-b", usage: tokens(1000, 200, 400) }), "");
    await account.finish({ status: "ok", servedBy: { provider: "openai-b", model: "gpt-4o-mini" } });
    await account.finish({ status: "ok", servedBy: undefined });

    expect(records).toHaveLength(1);
    const record = records[0];
    // timeout: 3 estimated prompt tokens = 450_000; answer: 600 fresh + 400 cached (75_000) + 200 out.
    const picos = 450_000n + 600n * 150_000n + 400n * 75_000n + 200n * 600_000n;
    expect(record).toMatchObject({
      id: "req-42",
      tenant: "acme",
      keyId: "key_a",
      model: "fast",
      provider: "openai-b",
      providerModel: "gpt-4o-mini",
      status: "ok",
      usage: {
        promptTokens: 1003,
        completionTokens: 200,
        totalTokens: 1203,
        cachedPromptTokens: 400,
        cacheWriteTokens: 0,
      },
      costPicos: picos,
      costMicros: (picos + 500_000n) / 1_000_000n,
      costUnknown: false,
      estimated: true,
    });
    expect(record?.attempts.map((a) => [a.provider, a.status, a.billed])).toEqual([
      ["openai-main", "timeout", true],
      ["azure-eu", "unavailable", false],
      ["openai-b", "ok", true],
    ]);
    expect(record?.costMicros).toBe(240n);
    expect(book.spent("key:key_a", "total")).toBe(240);
    expect(record?.spend).toContainEqual({ scope: "key:key_a", period: "total", windowStart: 0, micros: 240 });
  });

  it("records the last attempt's target for a failed request", async () => {
    const { account, records } = await setup();
    account.bill(
      attempt({ provider: "openai-main", model: "gpt-4o", error: { kind: "unavailable", message: "503" } }),
      "",
    );
    account.bill(
      attempt({ provider: "azure-eu", model: "dep-1", error: { kind: "rate_limited", message: "429" } }),
      "",
    );
    await account.finish({ status: "rate_limited", servedBy: undefined });
    expect(records[0]).toMatchObject({
      provider: "azure-eu",
      providerModel: "dep-1",
      status: "rate_limited",
      costMicros: 0n,
      spend: [],
    });
  });

  it("hands no record for a call that made no attempt, but still releases its hold", async () => {
    const { account, hold, records } = await setup({ limitMicros: 1_000_000 });
    await account.beforeAttempt("openai", "gpt-4o-mini", 10);
    expect(hold.reserved).toBeGreaterThan(0);
    await account.finish({ status: "budget_exceeded", servedBy: undefined });
    expect(records).toEqual([]);
    expect(hold.reserved).toBe(0);
  });
});

describe("CallAccount.beforeAttempt", () => {
  it("tops the hold up to the billed cost plus the most the attempt can cost, rounded up", async () => {
    const { account, hold } = await setup({ limitMicros: 1_000_000, promptTokens: 1000, maxTokens: 500 });
    expect(account.budgeted).toBe(true);
    await account.beforeAttempt("openai", "gpt-4o", 100);
    // 1000 × 2.5 µ$ + 100 × 10 µ$
    expect(hold.reserved).toBe(3_500);
    account.bill(attempt({ model: "gpt-4o", error: { kind: "timeout", message: "slow" } }), "");
    await account.beforeAttempt("openai", "gpt-4o", undefined, 7);
    // billed 2500 + (1000 + ceil(7·2/7)=2) × 2.5 + 500 × 10
    expect(hold.reserved).toBe(2_500 + 2_505 + 5_000);
    await account.beforeAttempt("openai", "gpt-4o-mini", 1);
    expect(hold.reserved).toBe(10_005);
  });

  it("prices the prompt at the cache-write price when that is higher (Anthropic)", async () => {
    const { account, hold } = await setup({ limitMicros: 1_000_000, promptTokens: 1000 });
    await account.beforeAttempt("anthropic", "claude-sonnet-4", 100);
    // 1000 × 3.75 µ$ (cache write) + 100 × 15 µ$
    expect(hold.reserved).toBe(5_250);
  });

  it("rounds a fraction of a micro-dollar up", async () => {
    const { account, hold } = await setup({ limitMicros: 1_000_000, promptTokens: 3 });
    await account.beforeAttempt("openai", "gpt-4o-mini", 0);
    expect(hold.reserved).toBe(1);
  });

  it("fails with budget_exceeded when the attempt cannot fit", async () => {
    const { account } = await setup({ limitMicros: 3_000, promptTokens: 1000 });
    const error = await providerErrorOf(account.beforeAttempt("openai", "gpt-4o", 100));
    expect(error.kind).toBe("budget_exceeded");
  });

  it("holds nothing when no budget applies", async () => {
    const { account, hold } = await setup({ promptTokens: 1000 });
    expect(account.budgeted).toBe(false);
    await account.beforeAttempt("openai", "gpt-4o", 1_000_000);
    expect(hold.reserved).toBe(0);
  });
});
