import { windowStart } from "./budget-period.js";
import type { SpendDelta } from "./budget-book.js";
import type { UsageDatabase } from "./usage-database.js";

interface TailRow {
  key_id: string;
  tenant: string;
  total: number;
  day: number;
  month: number;
}

/**
 * The spend of every scope in the windows current at `at` (all-time, today, this month, UTC), exactly as the
 * ledger holds it: what a BudgetBook starts from after a restart. It is the last spend checkpoint
 * (`budget_spend`) plus the requests written after it (a crash skips the checkpoint, never a record), each
 * in the windows of its end, when its spend was settled.
 */
export function loadSpend(db: UsageDatabase, at: number = Date.now()): SpendDelta[] {
  const day = windowStart("day", at);
  const month = windowStart("month", at);
  const rows = db
    .prepare(
      `SELECT scope, period, window_start AS windowStart, spent_micros AS micros FROM budget_spend
       WHERE period = 'total' OR (period = 'day' AND window_start = ?) OR (period = 'month' AND window_start = ?)`,
    )
    .all(day, month) as SpendDelta[];
  const checkpoint = (db.prepare(`SELECT request_rowid AS rowid FROM spend_checkpoint WHERE id = 1`).get() as { rowid: number } | undefined)?.rowid ?? 0;
  const tail = db
    .prepare(
      `SELECT key_id, tenant, SUM(cost_micros) AS total,
         SUM(CASE WHEN ended_at >= ? THEN cost_micros ELSE 0 END) AS day,
         SUM(CASE WHEN ended_at >= ? THEN cost_micros ELSE 0 END) AS month
       FROM requests WHERE rowid > ? AND key_id != '' AND cost_micros > 0 GROUP BY key_id, tenant`,
    )
    .all(day, month, checkpoint) as TailRow[];
  for (const row of tail) {
    for (const scope of [`key:${row.key_id}`, `tenant:${row.tenant}`]) {
      rows.push({ scope, period: "total", windowStart: 0, micros: row.total });
      if (row.day > 0) rows.push({ scope, period: "day", windowStart: day, micros: row.day });
      if (row.month > 0) rows.push({ scope, period: "month", windowStart: month, micros: row.month });
    }
  }
  return rows;
}
