import {
  circuitBreakerSchema,
  retrySchema,
  routingSchema,
  timeoutsSchema,
  type RoutingConfig,
} from "../../../src/config/pipeline-schema.js";
import { CircuitBreaker, withCircuitBreaker } from "../../../src/pipeline/resilience/circuit-breaker.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { withTimeouts } from "../../../src/pipeline/resilience/timeout-policy.js";
import type { HealthState } from "../../../src/pipeline/routing/health-checker.js";
import type { RouteMember } from "../../../src/pipeline/routing/route-member.js";
import { RouteProvider } from "../../../src/pipeline/routing/route-provider.js";
import { TargetStats } from "../../../src/pipeline/routing/target-stats.js";
import type { Provider } from "../../../src/providers/provider.js";

/** What a test member may set beyond its provider. */
export interface MemberOptions {
  model?: string;
  weight?: number;
  /** Breaker settings; the provider is wrapped with `withCircuitBreaker`. Default: a breaker of the defaults. */
  breaker?: Partial<Parameters<typeof circuitBreakerSchema.parse>[0]>;
  health?: HealthState;
  /** The breaker's clock (default Date.now). */
  now?: () => number;
}

/** A route member around `provider` with its own breaker and stats, as the lead composes them. */
export function routeMember(provider: Provider, options: MemberOptions = {}): RouteMember {
  const model = options.model ?? `${provider.name}-model`;
  const breaker = new CircuitBreaker(
    { provider: provider.name, model },
    circuitBreakerSchema.parse(options.breaker ?? {}),
    options.now,
  );
  return {
    provider: withCircuitBreaker(provider, breaker),
    model,
    weight: options.weight ?? 1,
    breaker,
    stats: new TargetStats(),
    ...(options.health === undefined ? {} : { health: options.health }),
  };
}

/** A route over `members` with routing settings parsed from `routing` (schema defaults for the rest). */
export function routeOver(
  members: readonly RouteMember[],
  routing: Partial<Parameters<typeof routingSchema.parse>[0]> = {},
): RouteProvider {
  const config: RoutingConfig = routingSchema.parse(routing);
  return new RouteProvider({ name: "test-model", members, routing: config });
}

/** A HealthState tests flip by hand. */
export function manualHealth(healthy: boolean): HealthState & { healthy: boolean } {
  return { healthy, status: healthy ? "healthy" : "unhealthy", lastError: undefined };
}

/** The per-target policies of a composed member; absent ones are left out. */
export interface ChainOptions extends MemberOptions {
  retry?: Partial<Parameters<typeof retrySchema.parse>[0]>;
  timeouts?: Partial<Parameters<typeof timeoutsSchema.parse>[0]>;
}

/**
 * A member composed as the lead composes targets, retry → circuit breaker → timeouts → adapter (the target
 * rate limiter, which sits between retry and breaker, is not needed here).
 */
export function composedMember(adapter: Provider, options: ChainOptions = {}): RouteMember {
  const timed =
    options.timeouts === undefined ? adapter : withTimeouts(adapter, timeoutsSchema.parse(options.timeouts));
  const member = routeMember(timed, options);
  if (options.retry === undefined) return member;
  const retry = retrySchema.parse(options.retry);
  return { ...member, provider: withRetry(member.provider, retry, new RetryBudget(retry.budget)) };
}

/**
 * `member` with its provider wrapped in a layer that counts the calls reaching it: what the composed chain puts
 * outside the breaker (retry, the target's rate limiter), which an open circuit must not charge.
 */
export function countedOutside(member: RouteMember): RouteMember & { calls: string[] } {
  const inner = member.provider;
  const calls: string[] = [];
  const provider: Provider = {
    name: inner.name,
    type: inner.type,
    chat: (r, signal, context) => {
      calls.push("chat");
      return inner.chat(r, signal, context);
    },
    complete: (r, signal, context) => {
      calls.push("complete");
      return inner.complete(r, signal, context);
    },
    embed: (r, signal, context) => {
      calls.push("embed");
      return inner.embed(r, signal, context);
    },
    streamChat: (r, signal, context) => {
      calls.push("streamChat");
      return inner.streamChat(r, signal, context);
    },
    streamComplete: (r, signal, context) => {
      calls.push("streamComplete");
      return inner.streamComplete(r, signal, context);
    },
  };
  return { ...member, provider, calls };
}
