import { describe, expect, it } from "vitest";
import { RateLimitWindow } from "../../src/emulator/rate-limit-window.js";

describe("RateLimitWindow", () => {
  it("admits up to the request limit within the window and reports the true remaining count", () => {
    const window = new RateLimitWindow({ requestsPerMinute: 2 });
    const first = window.admit(5, 1_000);
    expect(first.admitted).toBe(true);
    expect(first.snapshot.requestsRemaining).toBe(1);
    expect(first.snapshot.requestsResetMs).toBe(60_000);
    expect(window.admit(5, 11_000).snapshot.requestsRemaining).toBe(0);
    const third = window.admit(5, 21_000);
    expect(third).toMatchObject({
      admitted: false,
      dimension: "requests",
      limit: 2,
      used: 2,
      requested: 1,
      retryAfterMs: 40_000,
    });
  });

  it("slides: requests older than the window stop counting", () => {
    const window = new RateLimitWindow({ requestsPerMinute: 1 });
    expect(window.admit(0, 0).admitted).toBe(true);
    expect(window.admit(0, 59_999).admitted).toBe(false);
    expect(window.admit(0, 60_000).admitted).toBe(true);
    expect(window.snapshot(60_001).requestsRemaining).toBe(0);
    expect(window.snapshot(120_000).requestsRemaining).toBe(1);
  });

  it("limits tokens and says when enough of them expire", () => {
    const window = new RateLimitWindow({ tokensPerMinute: 100 });
    expect(window.admit(60, 0).admitted).toBe(true);
    expect(window.admit(30, 10_000).snapshot.tokensRemaining).toBe(10);
    const refused = window.admit(50, 20_000);
    expect(refused).toMatchObject({
      admitted: false,
      dimension: "tokens",
      limit: 100,
      used: 90,
      requested: 50,
      retryAfterMs: 40_000,
    });
    expect(window.admit(200, 20_000)).toMatchObject({ admitted: false, retryAfterMs: 60_000 });
  });

  it("reports nominal limits without enforcing them when none is configured", () => {
    const window = new RateLimitWindow();
    for (let index = 0; index < 1000; index++) expect(window.admit(1000, index).admitted).toBe(true);
    const snapshot = window.snapshot(1000);
    expect(snapshot.requestsRemaining).toBe(snapshot.requestsLimit - 1000);
    expect(snapshot.tokensRemaining).toBe(snapshot.tokensLimit - 1_000_000);
    expect(snapshot.requestsResetMs).toBe(0);
  });

  it("forgets everything on reset", () => {
    const window = new RateLimitWindow({ requestsPerMinute: 1 });
    window.admit(1, 0);
    window.reset();
    expect(window.admit(1, 1).admitted).toBe(true);
  });

  it("stays correct past its internal compaction", () => {
    const window = new RateLimitWindow({ requestsPerMinute: 10_000 });
    for (let index = 0; index < 20_000; index++) window.admit(1, index * 10);
    expect(window.snapshot(199_990)).toMatchObject({
      requestsRemaining: 10_000 - 6000,
      tokensRemaining: 1_000_000_000 - 6000,
    });
  });
});
