import { afterEach, describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider-error.js";
import { BudgetBook, type BudgetScope } from "../../src/usage/budget-book.js";
import { LedgerWriter } from "../../src/usage/ledger-writer.js";
import { loadSpend } from "../../src/usage/spend-loader.js";
import { openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";
import { attemptBill, ledgerRecord, tokens } from "./ledger-fixtures.js";

const count = (db: UsageDatabase, table: string): number =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const at = (iso: string): number => Date.parse(iso);

const writers: LedgerWriter[] = [];
function writer(db: UsageDatabase, flushIntervalMs = 60_000, maxBatch = 100): LedgerWriter {
  const w = new LedgerWriter(db, { flushIntervalMs, maxBatch });
  writers.push(w);
  return w;
}
afterEach(() => {
  for (const w of writers.splice(0)) w.close();
});

describe("LedgerWriter", () => {
  it("queues records and writes nothing before a flush", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(ledgerRecord({ id: "a" }));
    w.append(ledgerRecord({ id: "b" }));
    expect(w.pending).toBe(2);
    expect(count(db, "requests")).toBe(0);
    w.flush();
    expect(w.pending).toBe(0);
    expect(count(db, "requests")).toBe(2);
    expect(count(db, "attempts")).toBe(2);
  });

  it("writes a batch within flushIntervalMs", async () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db, 20);
    w.append(ledgerRecord({ id: "a" }));
    expect(count(db, "requests")).toBe(0);
    await sleep(80);
    expect(count(db, "requests")).toBe(1);
    expect(w.pending).toBe(0);
  });

  it("writes at once when the batch reaches maxBatch", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db, 60_000, 3);
    w.append(ledgerRecord({ id: "a" }));
    w.append(ledgerRecord({ id: "b" }));
    expect(count(db, "requests")).toBe(0);
    w.append(ledgerRecord({ id: "c" }));
    expect(count(db, "requests")).toBe(3);
  });

  it("writes what is queued on close", () => {
    const db = openUsageDatabase(":memory:");
    const w = new LedgerWriter(db, { flushIntervalMs: 60_000, maxBatch: 100 });
    w.append(ledgerRecord({ id: "a" }));
    w.close();
    expect(count(db, "requests")).toBe(1);
  });

  it("writes the request row and its attempts, and the spend they add at the next checkpoint", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    const day = at("2025-03-15T00:00:00.000Z");
    w.append(
      ledgerRecord({
        id: "req-9",
        startedAt: 1_000.4,
        endedAt: 2_000.6,
        status: "unavailable",
        stream: true,
        attempts: [
          attemptBill({ status: "timeout", usage: tokens(100, 0), costPicos: 250_000_000n, estimated: true }),
          attemptBill({
            provider: "azure-eu",
            model: "gpt4o-deploy",
            status: "unavailable",
            billed: false,
            usage: tokens(0, 0),
            costPicos: 0n,
          }),
        ],
        usage: tokens(100, 0, 7, 3),
        costMicros: 250n,
        costPicos: 250_000_000n,
        estimated: true,
        spend: [
          { scope: "key:key_a", period: "day", windowStart: day, micros: 250 },
          { scope: "key:key_a", period: "total", windowStart: 0, micros: 250 },
        ],
      }),
    );
    w.flush();
    expect(db.prepare("SELECT * FROM requests").get()).toEqual({
      id: "req-9",
      started_at: 1_000,
      ended_at: 2_001,
      tenant: "acme",
      key_id: "key_a",
      model: "gpt-4o",
      provider: "openai-main",
      provider_model: "gpt-4o",
      operation: "chat",
      stream: 1,
      status: "unavailable",
      failed: 1,
      attempts: 2,
      prompt_tokens: 100,
      completion_tokens: 0,
      cached_prompt_tokens: 7,
      cache_write_tokens: 3,
      cost_micros: 250,
      cost_picos: 250_000_000,
      cost_unknown: 0,
      estimated: 1,
    });
    expect(
      db
        .prepare(
          "SELECT request_id, seq, provider, model, status, billed, prompt_tokens, cost_picos, estimated FROM attempts ORDER BY seq",
        )
        .all(),
    ).toEqual([
      {
        request_id: "req-9",
        seq: 0,
        provider: "openai-main",
        model: "gpt-4o",
        status: "timeout",
        billed: 1,
        prompt_tokens: 100,
        cost_picos: 250_000_000,
        estimated: 1,
      },
      {
        request_id: "req-9",
        seq: 1,
        provider: "azure-eu",
        model: "gpt4o-deploy",
        status: "unavailable",
        billed: 0,
        prompt_tokens: 0,
        cost_picos: 0,
        estimated: 0,
      },
    ]);
    expect(count(db, "budget_spend")).toBe(0);
    w.checkpoint();
    expect(db.prepare("SELECT request_rowid FROM spend_checkpoint").get()).toEqual({ request_rowid: 1 });
    expect(
      db.prepare("SELECT scope, period, window_start, spent_micros FROM budget_spend ORDER BY period").all(),
    ).toEqual([
      { scope: "key:key_a", period: "day", window_start: day, spent_micros: 250 },
      { scope: "key:key_a", period: "total", window_start: 0, spent_micros: 250 },
    ]);
  });

  it("adds spend of several records to the same window", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(
      ledgerRecord({ id: "a", spend: [{ scope: "tenant:acme", period: "total", windowStart: 0, micros: 300 }] }),
    );
    w.append(ledgerRecord({ id: "b", spend: [{ scope: "tenant:acme", period: "total", windowStart: 0, micros: 45 }] }));
    w.flush();
    w.checkpoint();
    w.append(ledgerRecord({ id: "c", spend: [{ scope: "tenant:acme", period: "total", windowStart: 0, micros: 5 }] }));
    w.append(
      ledgerRecord({ id: "c", spend: [{ scope: "tenant:acme", period: "total", windowStart: 0, micros: 1000 }] }),
    );
    w.flush();
    w.checkpoint();
    // The second "c" was written before: neither its row nor its spend is added.
    expect(db.prepare("SELECT spent_micros FROM budget_spend").all()).toEqual([{ spent_micros: 350 }]);
  });

  it("writes each record with its attempts and spend as one unit: a refused record leaves none of its rows, and holds no other back", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(
      ledgerRecord({ id: "good", spend: [{ scope: "key:key_a", period: "total", windowStart: 0, micros: 10 }] }),
    );
    // A fractional token count cannot be stored in the STRICT INTEGER column: the record fails at its attempt,
    // after its request row was inserted.
    w.append(
      ledgerRecord({
        id: "bad",
        attempts: [attemptBill({ usage: tokens(1.5, 0) })],
        spend: [{ scope: "key:key_a", period: "total", windowStart: 0, micros: 99 }],
      }),
    );
    w.flush();
    w.checkpoint();
    expect(db.prepare("SELECT id FROM requests").all()).toEqual([{ id: "good" }]);
    expect(db.prepare("SELECT request_id FROM attempts").all()).toEqual([{ request_id: "good" }]);
    expect(db.prepare("SELECT spent_micros FROM budget_spend").all()).toEqual([{ spent_micros: 10 }]);
    expect(w.pending).toBe(0);
  });

  it("keeps a batch queued while the database refuses every record, and writes it once it accepts them", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON requests BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    w.append(ledgerRecord({ id: "one" }));
    w.append(ledgerRecord({ id: "two" }));
    w.flush();
    expect(count(db, "requests")).toBe(0);
    expect(w.pending).toBe(2);
    db.exec("DROP TRIGGER refuse");
    w.close();
    expect(count(db, "requests")).toBe(2);
    expect(w.pending).toBe(0);
  });

  it("does not write a request twice when the same id comes again", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(ledgerRecord({ id: "dup" }));
    w.append(ledgerRecord({ id: "dup", status: "timeout" }));
    w.flush();
    expect(db.prepare("SELECT id, status FROM requests").all()).toEqual([{ id: "dup", status: "ok" }]);
  });
});

describe("loadSpend", () => {
  it("returns the total and the current UTC day and month windows only", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    const now = at("2025-03-15T09:30:00.000Z");
    const today = at("2025-03-15T00:00:00.000Z");
    const yesterday = at("2025-03-14T00:00:00.000Z");
    const thisMonth = at("2025-03-01T00:00:00.000Z");
    const lastMonth = at("2025-02-01T00:00:00.000Z");
    w.append(
      ledgerRecord({
        spend: [
          { scope: "key:key_a", period: "total", windowStart: 0, micros: 900 },
          { scope: "key:key_a", period: "day", windowStart: yesterday, micros: 500 },
          { scope: "key:key_a", period: "day", windowStart: today, micros: 400 },
          { scope: "key:key_a", period: "month", windowStart: lastMonth, micros: 100 },
          { scope: "key:key_a", period: "month", windowStart: thisMonth, micros: 800 },
          { scope: "tenant:acme", period: "day", windowStart: today, micros: 70 },
        ],
      }),
    );
    w.flush();
    w.checkpoint();
    const rows = loadSpend(db, now).sort((a, b) => `${a.scope}${a.period}`.localeCompare(`${b.scope}${b.period}`));
    expect(rows).toEqual([
      { scope: "key:key_a", period: "day", windowStart: today, micros: 400 },
      { scope: "key:key_a", period: "month", windowStart: thisMonth, micros: 800 },
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 900 },
      { scope: "tenant:acme", period: "day", windowStart: today, micros: 70 },
    ]);
    expect(loadSpend(db, at("2025-04-01T00:00:00.000Z"))).toEqual([
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 900 },
    ]);
  });

  it("adds the spend of requests written after the last checkpoint, in the windows of their end (a crash skipped it)", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    const now = at("2025-03-15T09:30:00.000Z");
    const today = at("2025-03-15T00:00:00.000Z");
    const thisMonth = at("2025-03-01T00:00:00.000Z");
    const spend = (micros: number) => [
      { scope: "key:key_a", period: "total" as const, windowStart: 0, micros },
      { scope: "tenant:acme", period: "total" as const, windowStart: 0, micros },
    ];
    w.append(ledgerRecord({ id: "a", endedAt: at("2025-03-15T08:00:00.000Z"), costMicros: 100n, spend: spend(100) }));
    w.flush();
    w.checkpoint();
    w.append(ledgerRecord({ id: "b", endedAt: at("2025-03-15T09:00:00.000Z"), costMicros: 20n, spend: spend(20) }));
    w.append(ledgerRecord({ id: "c", endedAt: at("2025-03-10T09:00:00.000Z"), costMicros: 3n, spend: spend(3) }));
    w.append(
      ledgerRecord({ id: "d", keyId: "", tenant: "open", endedAt: at("2025-03-15T09:00:00.000Z"), costMicros: 1000n }),
    );
    w.flush(); // no checkpoint: the process dies here
    const rows = loadSpend(db, now);
    const total = (scope: string, period: string, start: number): number =>
      rows
        .filter((r) => r.scope === scope && r.period === period && r.windowStart === start)
        .reduce((sum, r) => sum + r.micros, 0);
    expect(total("key:key_a", "total", 0)).toBe(123);
    expect(total("tenant:acme", "total", 0)).toBe(123);
    expect(total("key:key_a", "day", today)).toBe(20);
    expect(total("key:key_a", "month", thisMonth)).toBe(23);
    expect(rows.some((r) => r.scope.includes("open"))).toBe(false);
  });

  it("lets a restarted BudgetBook start from the spend the ledger committed", async () => {
    const db = openUsageDatabase(":memory:");
    const now = at("2025-03-15T09:30:00.000Z");
    const scopes: BudgetScope[] = [
      {
        scope: "key:key_a",
        kind: "key",
        tenant: "acme",
        keyId: "key_a",
        label: "key key_a",
        budget: { limitMicros: 1000, period: "day" },
      },
    ];
    const before = new BudgetBook({ maxWaitMs: 0, now: () => now });
    const w = writer(db);
    w.append(
      ledgerRecord({ spend: (await before.reserve(scopes, 700, new AbortController().signal, undefined)).settle(700) }),
    );
    w.close();

    const after = new BudgetBook({ maxWaitMs: 0, now: () => now }, loadSpend(db, now));
    expect(after.spent("key:key_a", "day")).toBe(700);
    expect(after.spent("key:key_a", "total")).toBe(700);
    const error = await after.reserve(scopes, 301, new AbortController().signal, undefined).catch((e: unknown) => e);
    expect(ProviderError.is(error, "budget_exceeded")).toBe(true);
  });
});
