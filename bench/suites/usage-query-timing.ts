import { openUsageDatabase } from "../../src/usage/usage-database.js";
import { queryUsage, type UsageFilter } from "../../src/usage/usage-query.js";
import type { UsageQueryFigures } from "../report/bench-report.js";
import type { FilledLedger } from "./usage-ledger-fill.js";

const dayMs = 86_400_000;

interface TimedQuery {
  id: string;
  name: string;
  scoped: boolean;
  filter: UsageFilter;
}

/** The GetUsage questions timed: a key's week by day, a tenant's month by model, a day by provider, a model's quarter by key. */
function questions(ledger: FilledLedger, now: number): TimedQuery[] {
  const key = ledger.keyIds[0] ?? "";
  const tenant = ledger.tenants[0] ?? "";
  const model = ledger.models[0] ?? "";
  return [
    {
      id: "cost/usage/key-7d-by-day",
      name: `one key, last 7 days, by day`,
      scoped: true,
      filter: { keyId: key, since: now - 7 * dayMs, groupBy: ["day"] },
    },
    {
      id: "cost/usage/tenant-30d-by-model",
      name: `one tenant, last 30 days, by model`,
      scoped: true,
      filter: { tenant, since: now - 30 * dayMs, groupBy: ["model"] },
    },
    {
      id: "cost/usage/all-24h-by-provider",
      name: `every key, last 24 h, by provider`,
      scoped: false,
      filter: { since: now - dayMs, groupBy: ["provider"] },
    },
    {
      id: "cost/usage/model-90d-by-key",
      name: `one model, last 90 days, by key`,
      scoped: false,
      filter: { model, since: now - 90 * dayMs, groupBy: ["key"] },
    },
  ];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * Times `queryUsage` (what GetUsage runs once the ledger is flushed) on the filled ledger, opened afresh as a
 * gateway opens it: `runs` rounds of every question in turn (the first round after the reopen), wall ms of
 * each call; medians per question.
 */
export function timeUsageQueries(ledger: FilledLedger, now: number, runs: number): UsageQueryFigures[] {
  const db = openUsageDatabase(ledger.path);
  try {
    const timed = questions(ledger, now).map((q) => ({ ...q, runsMs: [] as number[], matchedRows: 0, groups: 0 }));
    for (let run = 0; run < runs; run++) {
      for (const q of timed) {
        const started = performance.now();
        const totals = queryUsage(db, q.filter);
        q.runsMs.push(performance.now() - started);
        q.groups = totals.length;
        q.matchedRows = totals.reduce((sum, t) => sum + t.requests, 0);
      }
    }
    return timed.map((q) => ({
      id: q.id,
      name: q.name,
      scoped: q.scoped,
      matchedRows: q.matchedRows,
      groups: q.groups,
      medianMs: median(q.runsMs),
      runsMs: q.runsMs,
    }));
  } finally {
    db.close();
  }
}
