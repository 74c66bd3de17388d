import { describe, expect, it } from "vitest";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function withdrawAll(budget: RetryBudget): number {
  let taken = 0;
  while (budget.tryWithdraw()) taken += 1;
  return taken;
}

describe("RetryBudget", () => {
  it("earns one retry per ten requests at ratio 0.1, exactly, without a floor", () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0 }, { now: manualClock().now });
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 9; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it("lets retries add at most ratio × requests under a total outage", () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0 }, { now: manualClock().now });
    let retries = 0;
    for (let i = 0; i < 1_000; i++) {
      budget.deposit();
      for (let attempt = 2; attempt <= 3 && budget.tryWithdraw(); attempt++) retries += 1;
    }
    expect(retries).toBe(100);
  });

  it("caps what a healthy period saves up at maxTokens", () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 }, { now: manualClock().now, maxTokens: 4 });
    for (let i = 0; i < 1_000; i++) budget.deposit();
    expect(budget.available).toBe(4);
    expect(withdrawAll(budget)).toBe(4);
  });

  it("defaults the cap to 10 retries", () => {
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 0 }, { now: manualClock().now });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(10);
  });

  it("always allows the floor of minPerSecond retries per second, with no traffic at all", () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 2 }, { now: clock.now });
    expect(withdrawAll(budget)).toBe(2);
    clock.advance(499);
    expect(budget.tryWithdraw()).toBe(false);
    clock.advance(1);
    expect(withdrawAll(budget)).toBe(1);
    clock.advance(10_000);
    expect(budget.available).toBe(2);
    expect(withdrawAll(budget)).toBe(2);
  });

  it("refills a fractional floor too (one retry every four seconds at 0.25)", () => {
    const clock = manualClock();
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.25 }, { now: clock.now });
    expect(withdrawAll(budget)).toBe(1);
    for (let i = 0; i < 39; i++) {
      clock.advance(100);
      expect(budget.tryWithdraw()).toBe(false);
    }
    clock.advance(100);
    expect(budget.tryWithdraw()).toBe(true);
  });

  it("spends earned retries before the floor", () => {
    const budget = new RetryBudget({ ratio: 1, minPerSecond: 1 }, { now: manualClock().now });
    budget.deposit();
    budget.deposit();
    expect(budget.available).toBe(3);
    expect(withdrawAll(budget)).toBe(3);
  });
});
