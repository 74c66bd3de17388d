/**
 * Parses a US-dollar amount as people type it (`25`, `25.5`, `$0.000001`) into integer micro-dollars, the unit
 * of every amount on the admin API. The decimal string is split into its digits, never passed through a float,
 * so `0.1` is exactly 100000. Throws RangeError for anything else: a sign, an exponent, more than 6 decimals
 * (less than a micro-dollar), or no digits.
 */
export function parseDollars(text: string): bigint {
  const match = /^\$?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (match === null)
    throw new RangeError(`"${text}" is not a dollar amount (digits with up to 6 decimals, for example 25.00)`);
  const whole = match[1] ?? "0";
  const fraction = match[2] ?? "";
  if (fraction.length > 6)
    throw new RangeError(`"${text}" has more than 6 decimals (the smallest amount is 0.000001, one micro-dollar)`);
  return BigInt(whole) * 1_000_000n + BigInt(fraction.padEnd(6, "0"));
}
