import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider-error.js";

// Kill tests for src/providers/provider-error.ts (mutation testing, see
// docs/mutation/providers-survivors-2026-12-02.md).

describe("ProviderError: its name", () => {
  it("is ProviderError, so a log or message that prints the error says what it is", () => {
    const error = new ProviderError({ kind: "unavailable", provider: "openai", message: "openai: connection lost" });
    expect(error.name).toBe("ProviderError");
    expect(String(error)).toBe("ProviderError: openai: connection lost");
  });
});
