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

describe("scrubbedPrefix: the bounded prefix it scrubs", () => {
  it("reads no text past the bound and its margin, even when scrubbing shortened what came before", () => {
    // 4,000 characters of one key, then a tail: the first 3,024 (2,000 + the 1,024 margin) scrub to one marker.
    const message = `${"sk-".padEnd(4_000, "a")} and the tail`;
    const error = new ProviderError({ kind: "auth", provider: "openai-test", message });
    expect(error.message).toBe("[redacted key]…");
  });

  it("keeps a message of exactly the bound and its margin whole, with no cut mark, once scrubbed", () => {
    const message = "sk-".padEnd(3_024, "a");
    const error = new ProviderError({ kind: "auth", provider: "openai-test", message });
    expect(error.message).toBe("[redacted key]");
  });
});
