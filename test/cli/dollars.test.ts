import { describe, expect, it } from "vitest";
import { parseDollars } from "../../src/cli/dollars.js";

describe("parseDollars", () => {
  it.each([
    ["25", 25_000_000n],
    ["25.5", 25_500_000n],
    ["25.00", 25_000_000n],
    ["$12.34", 12_340_000n],
    ["0.1", 100_000n],
    ["0.000001", 1n],
    ["0", 0n],
    ["123456789.123456", 123_456_789_123_456n],
    ["9007199254.740993", 9_007_199_254_740_993n],
  ])("reads %s as %s micro-dollars, exactly", (text, micros) => {
    expect(parseDollars(text)).toBe(micros);
  });

  it.each(["0.0000001", "1.1234567"])("rejects %s: more than 6 decimals", (text) => {
    expect(() => parseDollars(text)).toThrow(/more than 6 decimals/);
  });

  it.each(["1e3", "-1", "+1", "", ".5", "5.", "1,000", "abc", "0x10", "Infinity", "NaN", "1 000"])(
    "rejects %j: not a dollar amount",
    (text) => {
      expect(() => parseDollars(text)).toThrow(/not a dollar amount/);
    },
  );
});
