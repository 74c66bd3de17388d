// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/rate-limit-window.ts (see
// docs/testing.md, "Mutation testing"): the waits a window estimates, which decide whether a queued request is
// failed at once. Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimitWindow } from "../../../src/pipeline/rate-limit/rate-limit-window.js";

/** A limit of 10 per second, in buckets of 100 ms. */
function windowOf(): RateLimitWindow {
  return new RateLimitWindow(createRateLimitStore(rateLimitingSchema.parse({})), "test:tokens", 10, 1_000);
}

describe("RateLimitWindow.estimateWaitMs", () => {
  it("before any admission, estimates no wait for what fits in a window and whole windows for more", () => {
    const window = windowOf();
    expect(window.estimateWaitMs(10, 0)).toBe(0);
    expect(window.estimateWaitMs(25, 0)).toBe(2_000);
  });

  it("counts a refund made since the last admission", async () => {
    const window = windowOf();
    const admission = await window.tryAdd(6, 0);
    expect(admission.admitted).toBe(true);
    expect(window.estimateWaitMs(8, 0)).toBeGreaterThan(0);
    await window.adjust(0, -4, 0);
    expect(window.estimateWaitMs(8, 0)).toBe(0);
  });

  it("counts an extra charge made since the last admission", async () => {
    const window = windowOf();
    await window.tryAdd(2, 0);
    expect(window.estimateWaitMs(8, 0)).toBe(0);
    await window.adjust(0, 4, 0);
    expect(window.estimateWaitMs(8, 0)).toBeGreaterThan(0);
  });
});

describe("RateLimitWindow.estimateWaitMs: when what is held slides out", () => {
  it("waits until enough of what is held has left the window", async () => {
    const window = windowOf();
    await window.tryAdd(6, 0);
    await window.tryAdd(3, 500);
    // The 6 taken at 0 ms leave the window at 1 100 ms: 600 ms after 500.
    expect(window.estimateWaitMs(4, 500)).toBe(600);
  });

  it("no longer counts what left the window since the last admission", async () => {
    const window = windowOf();
    await window.tryAdd(4, 10_000);
    await window.tryAdd(2, 10_500);
    // At 11 200 ms the 4 taken at 10 000 ms have left; the 2 taken at 10 500 ms leave 5 of 10 free.
    expect(window.estimateWaitMs(5, 11_200)).toBe(0);
    expect(window.estimateWaitMs(9, 11_200)).toBe(400);
  });
});

describe("RateLimitWindow.adjust", () => {
  it("takes a correction on a window that has admitted nothing yet in this process", async () => {
    const window = windowOf();
    await window.adjust(0, 5, 0);
    expect(await window.used(0)).toBe(5);
  });
});
