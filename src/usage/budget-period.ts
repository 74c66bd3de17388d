/** The calendar period a budget's limit applies to (UTC). */
export type BudgetPeriod = "total" | "day" | "month";

/** A spending limit in micro-USD over a period. */
export interface Budget {
  limitMicros: number;
  period: BudgetPeriod;
}

/** Every period, in the order spend is kept for a scope. */
export const budgetPeriods: readonly BudgetPeriod[] = ["total", "day", "month"];

/**
 * The start of the period window that `at` (epoch ms) falls in, in epoch ms: 0 for `total`, UTC midnight for
 * `day`, the first of the UTC month for `month`.
 */
export function windowStart(period: BudgetPeriod, at: number): number {
  if (period === "total") return 0;
  const day = at - (((at % dayMs) + dayMs) % dayMs);
  if (period === "day") return day;
  if (day !== lastMonth.day) {
    const date = new Date(day);
    lastMonth.day = day;
    lastMonth.start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  }
  return lastMonth.start;
}

const dayMs = 86_400_000;
/** The month of the last day asked for: every call of a day asks for the same month. */
const lastMonth = { day: Number.NaN, start: 0 };

/** How a period reads in messages: "total", "daily", "monthly". */
export function periodAdjective(period: BudgetPeriod): string {
  return period === "total" ? "total" : period === "day" ? "daily" : "monthly";
}

/** Micro-USD as dollars for people: `$1.234567` trimmed to cents when exact (`$12.50`). */
export function formatMicros(micros: number | bigint): string {
  const value = BigInt(micros);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const dollars = abs / 1_000_000n;
  let fraction = (abs % 1_000_000n).toString().padStart(6, "0").replace(/0+$/, "");
  if (fraction.length < 2) fraction = fraction.padEnd(2, "0");
  return `${sign}$${dollars}.${fraction}`;
}
