import type { RoutingConfig } from "../../config/pipeline-schema.js";
import type { TargetStatsSnapshot } from "./target-stats.js";

/** How a route picks the first target of a call. */
export type BalancingStrategy = RoutingConfig["strategy"];

/** What the balancer reads of a target. */
export interface BalancerCandidate {
  /** Share of traffic under `weighted` (a positive integer). */
  readonly weight: number;
  /** Load and latency, read by `least-latency`. */
  readonly stats: { snapshot(): TargetStatsSnapshot };
}

/** Orders a route's targets for one call: the chosen one first, then the others as fallbacks. */
export interface LoadBalancer {
  readonly strategy: BalancingStrategy;
  /** The candidates, the chosen first and the rest in their given (config) order. */
  order<T extends BalancerCandidate>(candidates: readonly T[]): T[];
}

/** What a balancer may take besides its strategy. */
export interface LoadBalancerOptions {
  /** Random numbers in [0, 1), for `least-latency`; default Math.random. */
  random?: () => number;
}

/**
 * A balancer for one route. Strategies choose the first target only; fallback continues through the others
 * in config order, so the configured priority still decides what backs up what.
 * - `ordered`: config order, the first target always first.
 * - `round-robin`: each call starts one target further.
 * - `weighted`: smooth weighted round robin (nginx's): over any run of calls each target is chosen in
 *   proportion to its weight, interleaved rather than in bursts, and deterministically.
 * - `least-latency`: power of two random choices: of two random targets, the one with the lower
 *   latency EWMA (at least 1 ms) × (in flight + 1). A target with no latency sample yet counts the lowest known latency, so
 *   it is tried without being flooded.
 * Candidates may be a subset of the route (unhealthy ones left out) and vary from call to call. A call with
 * fewer than two candidates has nothing to choose and takes no turn: round-robin's rotation stays where it was
 * and least-latency draws no random number.
 */
export function createLoadBalancer(strategy: BalancingStrategy, options: LoadBalancerOptions = {}): LoadBalancer {
  const random = options.random ?? Math.random;
  const pick = choosers[strategy](random);
  return {
    strategy,
    order<T extends BalancerCandidate>(candidates: readonly T[]): T[] {
      if (candidates.length < 2) return [...candidates];
      const chosen = pick(candidates);
      const first = candidates[chosen];
      if (first === undefined) return [...candidates];
      return [first, ...candidates.filter((_, index) => index !== chosen)];
    },
  };
}

/** Picks the index of the first target among at least two candidates. */
type Chooser = (candidates: readonly BalancerCandidate[]) => number;

const choosers: Record<BalancingStrategy, (random: () => number) => Chooser> = {
  ordered: () => () => 0,
  "round-robin": () => {
    let next = 0;
    return (candidates) => next++ % candidates.length;
  },
  weighted: () => {
    const current = new WeakMap<BalancerCandidate, number>();
    return (candidates) => {
      let total = 0;
      let best = 0;
      let bestWeight = Number.NEGATIVE_INFINITY;
      candidates.forEach((candidate, index) => {
        const weight = (current.get(candidate) ?? 0) + candidate.weight;
        current.set(candidate, weight);
        total += candidate.weight;
        if (weight > bestWeight) {
          bestWeight = weight;
          best = index;
        }
      });
      const chosen = candidates[best];
      if (chosen !== undefined) current.set(chosen, bestWeight - total);
      return best;
    };
  },
  "least-latency": (random) => (candidates) => {
    const first = Math.floor(random() * candidates.length);
    const offset = 1 + Math.floor(random() * (candidates.length - 1));
    const second = (first + offset) % candidates.length;
    const snapshots = candidates.map((candidate) => candidate.stats.snapshot());
    const known = snapshots.flatMap((snapshot) =>
      snapshot.latencyEwmaMs === undefined ? [] : [snapshot.latencyEwmaMs],
    );
    const fallbackLatency = known.length === 0 ? 1 : Math.min(...known);
    const score = (index: number): number => {
      const snapshot = snapshots[index];
      if (snapshot === undefined) return Number.POSITIVE_INFINITY;
      return Math.max(snapshot.latencyEwmaMs ?? fallbackLatency, 1) * (snapshot.inFlight + 1);
    };
    return score(second) < score(first) ? second : first;
  },
};
