import { describe, expect, it } from "vitest";
import { chatPromptTokens, countTokens, splitTokens } from "../../src/emulator/emulator-tokens.js";

describe("countTokens", () => {
  it("counts runs of non-space characters", () => {
    expect(countTokens("Hello, world")).toBe(2);
    expect(countTokens("")).toBe(0);
    expect(countTokens("   ")).toBe(0);
    expect(countTokens("  a\tb\n\nc  ")).toBe(3);
    expect(countTokens("one")).toBe(1);
    expect(countTokens("a\u00a0b\u3000c")).toBe(3);
  });
});

describe("splitTokens", () => {
  it("gives each token with the whitespace before it", () => {
    expect(splitTokens("Hello, world")).toEqual(["Hello,", " world"]);
    expect(splitTokens("  a b")).toEqual(["  a", " b"]);
    expect(splitTokens("")).toEqual([]);
  });

  it("keeps trailing whitespace on the last piece so the pieces rebuild the text", () => {
    expect(splitTokens("a b  ")).toEqual(["a", " b  "]);
    expect(splitTokens("   ")).toEqual(["   "]);
    for (const text of ["x", " lead", "trail\n", "a  b\t\tc\n", "Echo: Hello, world"]) {
      expect(splitTokens(text).join("")).toBe(text);
      expect(splitTokens(text)).toHaveLength(countTokens(text));
    }
  });
});

describe("chatPromptTokens", () => {
  it("counts 3 per message plus 3", () => {
    expect(chatPromptTokens([])).toBe(3);
    expect(chatPromptTokens(["Hello, world"])).toBe(8);
    expect(chatPromptTokens(["You are terse.", "Hello, world"])).toBe(14);
  });
});
