import { budgetPeriods, windowStart } from "./budget-period.js";
import type { SpendDelta } from "./budget-book.js";
import type { UsageDatabase } from "./usage-database.js";

interface TailRow {
  rowid: number;
  key_id: string;
  tenant: string;
  ended_at: number;
  cost_micros: number;
}

/**
 * The spend of every scope in the windows current at `at` (all-time, today, this month, UTC), exactly as the
 * ledger holds it: what a BudgetBook starts from after a restart.
 *
 * The spend of the requests written after the last checkpoint (a crash skipped it, never a record) is first
 * added to `budget_spend`, each request in the windows of its end (when its spend was settled), and the
 * checkpoint moved past them, in one transaction: so the next restart starts from the same figures.
 */
export function loadSpend(db: UsageDatabase, at: number = Date.now()): SpendDelta[] {
  db.transaction(() => recoverTail(db))();
  return db
    .prepare(
      `SELECT scope, period, window_start AS windowStart, spent_micros AS micros FROM budget_spend
       WHERE period = 'total' OR (period = 'day' AND window_start = ?) OR (period = 'month' AND window_start = ?)`,
    )
    .all(windowStart("day", at), windowStart("month", at)) as SpendDelta[];
}

function recoverTail(db: UsageDatabase): void {
  const checkpoint =
    (
      db.prepare(`SELECT request_rowid AS rowid FROM spend_checkpoint WHERE id = 1`).get() as
        | { rowid: number }
        | undefined
    )?.rowid ?? 0;
  const tail = db
    .prepare(`SELECT rowid, key_id, tenant, ended_at, cost_micros FROM requests WHERE rowid > ? ORDER BY rowid`)
    .all(checkpoint) as TailRow[];
  const last = tail.at(-1);
  if (last === undefined) return;
  const spend = new Map<string, SpendDelta>();
  for (const row of tail) {
    if (row.key_id === "" || row.cost_micros <= 0) continue;
    for (const scope of [`key:${row.key_id}`, `tenant:${row.tenant}`]) {
      for (const period of budgetPeriods) {
        const start = windowStart(period, row.ended_at);
        const key = `${scope}\u0000${period}\u0000${start}`;
        const sum = spend.get(key);
        if (sum === undefined) spend.set(key, { scope, period, windowStart: start, micros: row.cost_micros });
        else sum.micros += row.cost_micros;
      }
    }
  }
  const add = db.prepare(
    `INSERT INTO budget_spend (scope, period, window_start, spent_micros) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope, period, window_start) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros`,
  );
  for (const s of spend.values()) add.run(s.scope, s.period, s.windowStart, s.micros);
  db.prepare(
    `INSERT INTO spend_checkpoint (id, request_rowid) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET request_rowid = excluded.request_rowid`,
  ).run(last.rowid);
}
