import { describe, expect, it } from "vitest";
import { createLoadBalancer, type BalancerCandidate } from "../../../src/pipeline/routing/load-balancer.js";
import { TargetStats } from "../../../src/pipeline/routing/target-stats.js";

interface Candidate extends BalancerCandidate {
  name: string;
  stats: TargetStats;
}

function candidate(name: string, weight = 1, latencyMs?: number): Candidate {
  const stats = new TargetStats();
  if (latencyMs !== undefined) stats.recordLatency(latencyMs);
  return { name, weight, stats };
}

/** A deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function firstPicks(
  order: (candidates: readonly Candidate[]) => Candidate[],
  candidates: readonly Candidate[],
  calls: number,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < calls; i++) {
    const name = order(candidates)[0]?.name ?? "none";
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

describe("createLoadBalancer", () => {
  const three = [candidate("a"), candidate("b"), candidate("c")];

  it("ordered keeps config order", () => {
    const balancer = createLoadBalancer("ordered");
    expect(balancer.order(three).map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(balancer.order(three).map((c) => c.name)).toEqual(["a", "b", "c"]);
  });

  it("round-robin starts each call one target further, the others following in config order", () => {
    const balancer = createLoadBalancer("round-robin");
    expect(balancer.order(three).map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(balancer.order(three).map((c) => c.name)).toEqual(["b", "a", "c"]);
    expect(balancer.order(three).map((c) => c.name)).toEqual(["c", "a", "b"]);
    const counts = firstPicks((c) => balancer.order(c), three, 999);
    expect([...counts.values()]).toEqual([333, 333, 333]);
  });

  it("weighted spreads 1000 picks by weight, interleaved", () => {
    const weighted = [candidate("heavy", 5), candidate("mid", 3), candidate("light", 2)];
    const balancer = createLoadBalancer("weighted");
    const firstTen = Array.from({ length: 10 }, () => balancer.order(weighted)[0]?.name);
    expect(firstTen.slice(0, 3)).not.toEqual(["heavy", "heavy", "heavy"]);
    const counts = firstPicks((c) => balancer.order(c), weighted, 1000);
    expect(counts.get("heavy")).toBeGreaterThanOrEqual(480);
    expect(counts.get("heavy")).toBeLessThanOrEqual(520);
    expect(counts.get("mid")).toBeGreaterThanOrEqual(280);
    expect(counts.get("mid")).toBeLessThanOrEqual(320);
    expect(counts.get("light")).toBeGreaterThanOrEqual(180);
    expect(counts.get("light")).toBeLessThanOrEqual(220);
  });

  it("weighted keeps working when the candidate set changes", () => {
    const [heavy, light, other] = [candidate("heavy", 3), candidate("light", 1), candidate("other", 1)];
    const balancer = createLoadBalancer("weighted");
    firstPicks((c) => balancer.order(c), [heavy, light, other], 7);
    const counts = firstPicks((c) => balancer.order(c), [heavy, light], 400);
    expect(counts.get("heavy")).toBeGreaterThanOrEqual(290);
    expect(counts.get("heavy")).toBeLessThanOrEqual(310);
  });

  it("least-latency prefers the fast target", () => {
    const fast = candidate("fast", 1, 20);
    const slow = [candidate("slow-1", 1, 400), candidate("slow-2", 1, 500)];
    const balancer = createLoadBalancer("least-latency", { random: seeded(7) });
    expect(firstPicks((c) => balancer.order(c), [fast, slow[0] ?? fast], 200).get("fast")).toBe(200);
    const counts = firstPicks((c) => balancer.order(c), [fast, ...slow], 1000);
    // Power of two choices: the fast target wins every pair it is in, 2/3 of the pairs.
    expect(counts.get("fast")).toBeGreaterThan(600);
    expect(counts.get("fast")).toBeLessThan(740);
    expect(counts.get("slow-2") ?? 0).toBeLessThan(counts.get("slow-1") ?? 0);
  });

  it("least-latency weighs in-flight calls and tries targets with no sample yet", () => {
    const busy = candidate("busy", 1, 20);
    for (let i = 0; i < 9; i++) busy.stats.begin();
    const idle = candidate("idle", 1, 100);
    const balancer = createLoadBalancer("least-latency", { random: seeded(3) });
    expect(balancer.order([busy, idle])[0]?.name).toBe("idle");
    const fresh = candidate("fresh");
    const known = candidate("known", 1, 50);
    known.stats.begin();
    expect(balancer.order([known, fresh])[0]?.name).toBe("fresh");
  });

  it("returns every candidate exactly once", () => {
    for (const strategy of ["ordered", "round-robin", "weighted", "least-latency"] as const) {
      const balancer = createLoadBalancer(strategy);
      for (let i = 0; i < 5; i++)
        expect(
          balancer
            .order(three)
            .map((c) => c.name)
            .sort(),
        ).toEqual(["a", "b", "c"]);
      expect(balancer.order([])).toEqual([]);
    }
  });
});
