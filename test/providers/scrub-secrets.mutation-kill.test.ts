import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider-error.js";

// Kill tests for src/providers/scrub-secrets.ts (mutation testing, see docs/testing.md). The adapters cap an
// upstream text at 1000 characters before it reaches a ProviderError, so the 2000-character bound is the last
// line for messages built elsewhere: this goes through ProviderError, which scrubs every message.

describe("scrubSecrets: a message longer than the bound", () => {
  it("keeps a ProviderError's first 2000 characters and marks the cut", () => {
    const sentence = "The upstream page said nothing useful here. ";
    const long = sentence.repeat(100);
    expect(long.length).toBeGreaterThan(2_000);
    const error = new ProviderError({ kind: "unavailable", provider: "openai-test", message: long });
    expect(error.message).toBe(`${long.slice(0, 2_000)}…`);
    expect(error.with({ retryable: false }).message).toBe(`${long.slice(0, 2_000)}…`);
  });
});
