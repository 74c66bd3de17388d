const unitMs: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const isoPattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(:\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Parses a `--since`/`--until` value into epoch milliseconds: either a duration ago (`30m`, `12h`, `7d`, also
 * `s` and `w`), counted back from `now`, or an ISO 8601 date or date-time (`2025-06-01`, `2025-06-01T12:00`,
 * `2025-06-01T12:00:00+02:00`). A date or a date-time without an offset is read as UTC, like the usage
 * ledger's hours and days. Throws RangeError for anything else, including impossible dates (`2025-02-30`).
 */
export function parseTimePoint(text: string, now: number = Date.now()): number {
  const value = text.trim();
  const duration = /^(\d+)([smhdw])$/.exec(value);
  if (duration !== null) return now - Number(duration[1]) * (unitMs[duration[2] ?? ""] ?? 0);
  const iso = isoPattern.exec(value);
  if (iso === null)
    throw new RangeError(`"${text}" is neither a duration ago (30m, 12h, 7d) nor an ISO date or date-time`);
  const [, year = "", month = "", day = "", hour = "00", minute = "00", seconds = "", offset = "Z"] = iso;
  const ms = Date.parse(`${year}-${month}-${day}T${hour}:${minute}${seconds}${offset}`);
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  const valid =
    !Number.isNaN(ms) &&
    calendar.getUTCFullYear() === Number(year) &&
    calendar.getUTCMonth() === Number(month) - 1 &&
    calendar.getUTCDate() === Number(day) &&
    Number(hour) < 24 &&
    Number(minute) < 60;
  if (!valid) throw new RangeError(`"${text}" is not a valid date or date-time`);
  return ms;
}
