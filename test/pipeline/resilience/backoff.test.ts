import { describe, expect, it } from "vitest";
import { backoff } from "../../../src/pipeline/resilience/backoff.js";

const config = { baseDelayMs: 100, maxDelayMs: 1_000 };

describe("backoff", () => {
  it("draws from [0, base × 2^(attempt-1)) with full jitter", () => {
    expect(backoff(1, config, () => 0)).toBe(0);
    expect(backoff(1, config, () => 0.5)).toBe(50);
    expect(backoff(2, config, () => 0.5)).toBe(100);
    expect(backoff(3, config, () => 0.5)).toBe(200);
    expect(backoff(3, config, () => 0.999_999)).toBe(399);
  });

  it("caps the window at maxDelayMs however many attempts failed", () => {
    expect(backoff(5, config, () => 0.5)).toBe(500);
    expect(backoff(60, config, () => 0.5)).toBe(500);
    expect(backoff(2_000, config, () => 0.999_999)).toBe(999);
  });

  it("returns whole milliseconds below the window even for a random source that returns 1", () => {
    expect(backoff(1, config, () => 1)).toBe(99);
    expect(Number.isInteger(backoff(2, config, () => 0.123_456))).toBe(true);
  });

  it("spreads real random delays over the window", () => {
    const delays = Array.from({ length: 200 }, () => backoff(4, config));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(800);
    expect(new Set(delays).size).toBeGreaterThan(20);
  });
});
