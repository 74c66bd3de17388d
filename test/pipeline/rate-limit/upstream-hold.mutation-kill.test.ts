// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/upstream-hold.ts (see docs/testing.md,
// "Mutation testing"): how long a provider's own reported limits hold a request.
import { describe, expect, it } from "vitest";
import { UpstreamHold } from "../../../src/pipeline/rate-limit/upstream-hold.js";

describe("UpstreamHold", () => {
  it("holds a request for a second after a report of an exhausted limit without a reset time", () => {
    const hold = new UpstreamHold(30_000);
    hold.observe({ observedAt: 10_000, requests: { remaining: 0 } });
    expect(hold.waitMs({ promptTokens: 1, outputTokens: 1 }, 10_000)).toBe(1_000);
    expect(hold.waitMs({ promptTokens: 1, outputTokens: 1 }, 10_600)).toBe(400);
  });

  it("holds a request whose prompt exceeds the input tokens left, until their reset", () => {
    const hold = new UpstreamHold(30_000);
    hold.observe({ observedAt: 0, inputTokens: { remaining: 50, resetAt: 8_000 } });
    expect(hold.waitMs({ promptTokens: 60, outputTokens: 1 }, 0)).toBe(8_000);
    expect(hold.waitMs({ promptTokens: 40, outputTokens: 100 }, 0)).toBe(0);
  });

  it("holds a request whose output allowance exceeds the output tokens left, until their reset", () => {
    const hold = new UpstreamHold(30_000);
    hold.observe({ observedAt: 0, outputTokens: { remaining: 50, resetAt: 6_000 } });
    expect(hold.waitMs({ promptTokens: 1, outputTokens: 60 }, 0)).toBe(6_000);
    expect(hold.waitMs({ promptTokens: 100, outputTokens: 40 }, 0)).toBe(0);
  });
});
