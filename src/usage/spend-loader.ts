import { windowStart } from "./budget-period.js";
import type { SpendDelta } from "./budget-book.js";
import type { UsageDatabase } from "./usage-database.js";

/**
 * The spend of every scope in the windows current at `at` (all-time, today, this month, UTC), as the ledger
 * committed it: what a BudgetBook starts from after a restart.
 */
export function loadSpend(db: UsageDatabase, at: number = Date.now()): SpendDelta[] {
  const rows = db
    .prepare(
      `SELECT scope, period, window_start AS windowStart, spent_micros AS micros FROM budget_spend
       WHERE period = 'total' OR (period = 'day' AND window_start = ?) OR (period = 'month' AND window_start = ?)`,
    )
    .all(windowStart("day", at), windowStart("month", at)) as SpendDelta[];
  return rows;
}
