import type { ServedBy } from "../../providers/call-context.js";
import type { Provider } from "../../providers/provider.js";
import type { ProviderError } from "../../providers/provider-error.js";
import type { CircuitBreaker } from "../resilience/circuit-breaker.js";
import type { HealthState } from "./health-checker.js";
import type { TargetStats } from "./target-stats.js";

/**
 * One target of a route: the target's provider already wrapped in its per-target policies (the order is drawn
 * in docs/architecture.md), the provider's model, and the state the route reads to balance and skip it.
 */
export interface RouteMember {
  /** The policy-wrapped provider; its name and type are the target's provider's. */
  provider: Provider;
  /** The provider's model (Azure: the deployment). */
  model: string;
  /** Share of traffic under the weighted strategy. */
  weight: number;
  /**
   * The breaker that `withCircuitBreaker` uses inside `provider`. The route only reads it: to skip the target
   * while it is open, and to fail over without calling (so the target's rate limiter is not charged).
   */
  breaker?: CircuitBreaker;
  /** In flight and latency EWMA; the route feeds it around each call it makes to `provider`. */
  stats: TargetStats;
  /** The provider's active health (HealthChecker.stateOf); absent when the provider has no health check. */
  health?: HealthState;
}

/** Whether a member may be chosen first: its circuit lets calls through and its health check did not fail. */
export function isHealthy(member: RouteMember): boolean {
  return (member.breaker?.allowsCalls() ?? true) && (member.health?.healthy ?? true);
}

/** The trace's record of the member that answered. */
export function servedBy(member: RouteMember): ServedBy {
  return { provider: member.provider.name, providerType: member.provider.type, model: member.model };
}

/**
 * The error of a member whose circuit refuses calls now, so the route fails over without calling it;
 * undefined when it may be called.
 */
export function circuitRefusal(member: RouteMember): ProviderError | undefined {
  return member.breaker === undefined || member.breaker.allowsCalls() ? undefined : member.breaker.openError();
}
