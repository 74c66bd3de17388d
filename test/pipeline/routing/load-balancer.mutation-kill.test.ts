// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/load-balancer.ts (see docs/testing.md,
// "Mutation testing"): the existing tests drew the two choices from a seeded generator and checked shares,
// which left the exact pair and the scoring of targets without a latency sample unchecked. The survivors of the
// routing run of 2026-12-02 are triaged in docs/mutation/routing-survivors.md.
import { describe, expect, it } from "vitest";
import { createLoadBalancer, type BalancerCandidate } from "../../../src/pipeline/routing/load-balancer.js";

interface Target extends BalancerCandidate {
  name: string;
}

const target = (name: string, latencyEwmaMs: number | undefined, inFlight = 0, weight = 1): Target => ({
  name,
  weight,
  stats: { snapshot: () => ({ inFlight, latencyEwmaMs }) },
});

/** A random source that returns `values` in turn. */
const draws = (...values: number[]): (() => number) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

const firstOf = (targets: readonly Target[]): string | undefined => targets[0]?.name;

describe("least-latency: the pair of two random choices", () => {
  it("draws the first index, then a different one at 1 + floor(r x (n - 1)) further, wrapping around", () => {
    // n = 3: first = floor(0.4 x 3) = 1; offset = 1 + floor(0.6 x 2) = 2; second = (1 + 2) % 3 = 0.
    const balancer = createLoadBalancer("least-latency", { random: draws(0.4, 0.6) });
    const candidates = [target("a", 10), target("b", 50), target("c", 5)];
    // a (10 ms) beats b (50 ms); c, the fastest, was not drawn.
    expect(firstOf(balancer.order(candidates))).toBe("a");
  });

  it("compares the first choice with the second, the one after it", () => {
    // n = 2: first = 0, second = 1.
    const balancer = createLoadBalancer("least-latency", { random: draws(0.1, 0.5) });
    expect(firstOf(balancer.order([target("slow", 100), target("fast", 10)]))).toBe("fast");
  });

  it("keeps the first choice on a tie", () => {
    // n = 2: first = 1, second = 0.
    const balancer = createLoadBalancer("least-latency", { random: draws(0.6, 0.5) });
    expect(firstOf(balancer.order([target("a", 20), target("b", 20)]))).toBe("b");
  });
});

describe("least-latency: a target without a latency sample", () => {
  it("counts the lowest known latency, times its calls in flight + 1", () => {
    // n = 3: first = 0 (new, 2 in flight), second = 1 (50 ms, idle); c (200 ms) sets no floor.
    const balancer = createLoadBalancer("least-latency", { random: draws(0.1, 0.1) });
    const candidates = [target("new", undefined, 1), target("b", 50), target("c", 200)];
    // new: 50 x 2 = 100 > b: 50 x 1.
    expect(firstOf(balancer.order(candidates))).toBe("b");
  });

  it("counts 1 ms when no target has a sample", () => {
    // n = 2: first = 0 (3 in flight), second = 1 (idle): 1 x 4 > 1 x 1.
    const balancer = createLoadBalancer("least-latency", { random: draws(0.1, 0.5) });
    expect(firstOf(balancer.order([target("busy", undefined, 3), target("idle", undefined, 0)]))).toBe("idle");
  });

  it("takes the lowest of the known latencies, not the highest", () => {
    // n = 3: first = 2 (200 ms, idle), second = 0 (no sample: 50 ms).
    const balancer = createLoadBalancer("least-latency", { random: draws(0.9, 0.1) });
    const candidates = [target("new", undefined), target("b", 50), target("c", 200)];
    expect(firstOf(balancer.order(candidates))).toBe("new");
  });
});

describe("weighted", () => {
  it("breaks a tie of equal weights in config order", () => {
    const balancer = createLoadBalancer("weighted");
    const candidates = [target("a", undefined), target("b", undefined), target("c", undefined)];
    expect([1, 2, 3, 4, 5, 6].map(() => firstOf(balancer.order(candidates)))).toEqual(["a", "b", "c", "a", "b", "c"]);
  });
});

describe("round-robin: a call with a single candidate", () => {
  it("takes no turn: the next call with both starts where it would have", () => {
    const balancer = createLoadBalancer("round-robin");
    const a = target("a", undefined);
    const b = target("b", undefined);
    expect(firstOf(balancer.order([a, b]))).toBe("a");
    // b alone (a left out as unhealthy): nothing to choose, and the turn stays with b.
    expect(balancer.order([b]).map((t) => t.name)).toEqual(["b"]);
    expect(balancer.order([a, b]).map((t) => t.name)).toEqual(["b", "a"]);
    expect(firstOf(balancer.order([a, b]))).toBe("a");
  });
});
