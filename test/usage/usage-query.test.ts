import { beforeAll, describe, expect, it } from "vitest";
import { LedgerWriter } from "../../src/usage/ledger-writer.js";
import { queryUsage, type UsageTotals } from "../../src/usage/usage-query.js";
import { openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";
import { ledgerRecord, tokens } from "./ledger-fixtures.js";

const at = (iso: string): number => Date.parse(iso);
const h10 = at("2025-03-15T10:00:00.000Z");
const h11 = at("2025-03-15T11:00:00.000Z");
const d16 = at("2025-03-16T00:00:00.000Z");

/**
 * Five requests:
 * r1 acme/key_a gpt-4o openai  10:05 ok         100+20 tokens, 450 µ$
 * r2 acme/key_a gpt-4o azure   10:40 timeout    50+0, 125 µ$, estimated
 * r3 acme/key_b mini   openai  11:15 ok         10+5, 0 µ$, cost unknown
 * r4 globex/key_c gpt-4o openai 11:59:59.999 unavailable  0+0, 0 µ$
 * r5 globex/key_c claude anthropic 03-16 02:00 ok  1000+500, 10500 µ$
 */
function seed(db: UsageDatabase): void {
  const w = new LedgerWriter(db, { flushIntervalMs: 60_000, maxBatch: 1_000 });
  w.append(ledgerRecord({ id: "r1", startedAt: h10 + 5 * 60_000, usage: tokens(100, 20, 30), costMicros: 450n }));
  w.append(
    ledgerRecord({
      id: "r2",
      startedAt: h10 + 40 * 60_000,
      provider: "azure-eu",
      status: "timeout",
      usage: tokens(50, 0),
      costMicros: 125n,
      estimated: true,
    }),
  );
  w.append(
    ledgerRecord({
      id: "r3",
      startedAt: h11 + 15 * 60_000,
      keyId: "key_b",
      model: "gpt-4o-mini",
      usage: tokens(10, 5),
      costMicros: 0n,
      costUnknown: true,
    }),
  );
  w.append(
    ledgerRecord({
      id: "r4",
      startedAt: h11 + 3_599_999,
      tenant: "globex",
      keyId: "key_c",
      status: "unavailable",
      usage: tokens(0, 0),
      costMicros: 0n,
    }),
  );
  w.append(
    ledgerRecord({
      id: "r5",
      startedAt: d16 + 2 * 3_600_000,
      tenant: "globex",
      keyId: "key_c",
      model: "claude-sonnet-4",
      provider: "anthropic",
      usage: tokens(1000, 500),
      costMicros: 10_500n,
    }),
  );
  w.close();
}

const totals = (overrides: Partial<UsageTotals>): UsageTotals => ({
  tenant: "",
  keyId: "",
  model: "",
  provider: "",
  periodStart: undefined,
  requests: 0,
  failedRequests: 0,
  promptTokens: 0,
  completionTokens: 0,
  cachedPromptTokens: 0,
  costMicros: 0,
  costUnknownRequests: 0,
  estimatedRequests: 0,
  ...overrides,
});

describe("queryUsage", () => {
  let db: UsageDatabase;
  beforeAll(() => {
    db = openUsageDatabase(":memory:");
    seed(db);
  });

  it("sums everything into one row without a filter or grouping", () => {
    expect(queryUsage(db, { groupBy: [] })).toEqual([
      totals({
        requests: 5,
        failedRequests: 2,
        promptTokens: 1160,
        completionTokens: 525,
        cachedPromptTokens: 30,
        costMicros: 11_075,
        costUnknownRequests: 1,
        estimatedRequests: 1,
      }),
    ]);
  });

  it("returns no rows when nothing matches", () => {
    expect(queryUsage(db, { tenant: "initech", groupBy: [] })).toEqual([]);
    expect(queryUsage(db, { tenant: "initech", groupBy: ["model"] })).toEqual([]);
  });

  it("filters by tenant, key, model and provider", () => {
    expect(queryUsage(db, { tenant: "globex", groupBy: [] })[0]).toMatchObject({
      requests: 2,
      failedRequests: 1,
      costMicros: 10_500,
    });
    expect(queryUsage(db, { keyId: "key_a", groupBy: [] })[0]).toMatchObject({
      requests: 2,
      promptTokens: 150,
      costMicros: 575,
    });
    expect(queryUsage(db, { model: "gpt-4o", groupBy: [] })[0]).toMatchObject({ requests: 3, costMicros: 575 });
    expect(queryUsage(db, { provider: "openai-main", groupBy: [] })[0]).toMatchObject({
      requests: 3,
      costUnknownRequests: 1,
    });
    expect(queryUsage(db, { tenant: "acme", model: "gpt-4o", provider: "azure-eu", groupBy: [] })[0]).toMatchObject({
      requests: 1,
      estimatedRequests: 1,
    });
  });

  it("takes since inclusive and until exclusive", () => {
    const since = h10 + 40 * 60_000; // r2's start
    const until = h11 + 3_599_999; // r4's start
    expect(queryUsage(db, { since, until, groupBy: [] })[0]?.requests).toBe(2); // r2, r3
    expect(queryUsage(db, { since, groupBy: [] })[0]?.requests).toBe(4);
    expect(queryUsage(db, { until: since, groupBy: [] })[0]?.requests).toBe(1);
  });

  it("groups by tenant and key", () => {
    const rows = queryUsage(db, { groupBy: ["tenant", "key"] });
    expect(rows.map((r) => [r.tenant, r.keyId, r.model, r.requests, r.costMicros])).toEqual([
      ["acme", "key_a", "", 2, 575],
      ["acme", "key_b", "", 1, 0],
      ["globex", "key_c", "", 2, 10_500],
    ]);
  });

  it("groups by model and provider", () => {
    const rows = queryUsage(db, { groupBy: ["model", "provider"] });
    expect(rows.map((r) => [r.model, r.provider, r.requests, r.failedRequests])).toEqual([
      ["claude-sonnet-4", "anthropic", 1, 0],
      ["gpt-4o", "azure-eu", 1, 1],
      ["gpt-4o", "openai-main", 2, 1],
      ["gpt-4o-mini", "openai-main", 1, 0],
    ]);
  });

  it("groups by UTC hour", () => {
    const rows = queryUsage(db, { tenant: "acme", groupBy: ["hour"] });
    expect(rows).toEqual([
      totals({
        periodStart: h10,
        requests: 2,
        failedRequests: 1,
        promptTokens: 150,
        completionTokens: 20,
        cachedPromptTokens: 30,
        costMicros: 575,
        estimatedRequests: 1,
      }),
      totals({ periodStart: h11, requests: 1, promptTokens: 10, completionTokens: 5, costUnknownRequests: 1 }),
    ]);
  });

  it("groups by UTC day, with other dimensions", () => {
    const d15 = at("2025-03-15T00:00:00.000Z");
    const rows = queryUsage(db, { groupBy: ["day", "tenant"] });
    expect(rows.map((r) => [r.tenant, r.periodStart, r.requests, r.costMicros])).toEqual([
      ["acme", d15, 3, 575],
      ["globex", d15, 1, 0],
      ["globex", d16, 1, 10_500],
    ]);
  });

  it("treats an empty filter value as no filter", () => {
    expect(queryUsage(db, { tenant: "", keyId: "", groupBy: [] })[0]?.requests).toBe(5);
  });
});
