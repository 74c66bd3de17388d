import type { GatewayConfig, ProviderConfig } from "../config/config-schema.js";
import type { RetryConfig } from "../config/pipeline-schema.js";
import type { ProviderType } from "../config/provider-type.js";
import type { CallContext } from "../providers/call-context.js";
import type { Provider } from "../providers/provider.js";
import { attemptPolicy } from "./attempt-policy.js";
import { attemptRecordingHook } from "./observe/attempt-recorder.js";
import { CircuitBreaker, circuitBreakerHook, type CircuitState } from "./resilience/circuit-breaker.js";
import { ClientRateLimiter } from "./rate-limit/client-rate-limiter.js";
import { HealthChecker, type HealthListener, type HealthState } from "./routing/health-checker.js";
import { withOutputLimit } from "./rate-limit/output-limit-policy.js";
import { rateLimitHook } from "./rate-limit/rate-limit-policy.js";
import { createRateLimitStore, type RateLimitStoreState } from "./rate-limit/rate-limit-store.js";
import { RateLimiter } from "./rate-limit/rate-limiter.js";
import { SharedTokenEstimator } from "./rate-limit/tokens/shared-token-estimator.js";
import { TokenEstimator } from "./rate-limit/tokens/token-estimator.js";
import { ModelRouter, type Route } from "./routing/model-router.js";
import { RetryBudget } from "./resilience/retry-budget.js";
import { retrier } from "./resilience/retry-policy.js";
import type { RouteMember } from "./routing/route-member.js";
import { RouteProvider } from "./routing/route-provider.js";
import { TargetStats } from "./routing/target-stats.js";
import { withTimeouts } from "./resilience/timeout-policy.js";

/** The live state of one (provider, model) target, shared by every route that uses it. */
export interface TargetRuntime {
  model: string;
  breaker: CircuitBreaker;
  stats: TargetStats;
}

/** The live state of one configured provider, for ListProviders and health. */
export interface ProviderRuntime {
  name: string;
  type: ProviderType;
  health: HealthState;
  targets: TargetRuntime[];
  /** The provider's RPM/TPM limiter (also when it has no limits: upstream headers still hold it). */
  limiter: RateLimiter;
}

/** Told when a target's circuit changes state (alerts). */
export type CircuitListener = (provider: string, model: string, to: CircuitState, from: CircuitState) => void;

/** The composed pipeline: routes for the gateway, live state for ListProviders, and what must be stopped. */
export interface ComposedPipeline {
  router: ModelRouter;
  /** The token estimator every limiter shares (each prompt counted once); cost control estimates with it too. */
  estimator: TokenEstimator;
  providers: readonly ProviderRuntime[];
  /** Where rate-limit counters are kept now (for the store gauge). */
  readonly storeState: RateLimitStoreState;
  /** Loads tokenizers (so no request pays for it) and starts active health checks (those configured). */
  start(): Promise<void>;
  /** Stops health checks and closes the rate-limit store. */
  stop(): Promise<void>;
}

/**
 * The one place the pipeline is composed, in the order docs/architecture.md draws. A target used by several
 * model names shares one breaker, stats and retry budget. One rate-limit store (memory or Redis) serves every
 * limiter.
 */
export function composePipeline(
  config: GatewayConfig,
  adapters: ReadonlyMap<string, Provider>,
  onHealth?: HealthListener,
  onCircuit?: CircuitListener,
  onStoreState?: (state: RateLimitStoreState, error?: unknown) => void,
): ComposedPipeline {
  const providerConfigs = new Map(config.providers.map((p) => [p.name, p]));
  const adapterOf = (name: string): Provider => {
    const adapter = adapters.get(name);
    if (!adapter) throw new Error(`no adapter for provider ${name}`);
    return adapter;
  };
  const checker = new HealthChecker(
    config.providers.flatMap((p) =>
      p.healthCheck ? [{ provider: withTimeouts(adapterOf(p.name), p.timeouts), check: p.healthCheck }] : [],
    ),
    onHealth,
  );
  const limiting = config.pipeline.rateLimiting;
  const store = createRateLimitStore(limiting, onStoreState === undefined ? {} : { onStateChange: onStoreState });
  const estimator = new SharedTokenEstimator({ defaultMaxTokens: limiting.defaultMaxTokens });
  const clients = new ClientRateLimiter({ config: limiting, store });
  const runtimes = new Map<string, ProviderRuntime>(
    config.providers.map((p) => [
      p.name,
      {
        name: p.name,
        type: p.type,
        health: checker.stateOf(p.name),
        targets: [],
        limiter: new RateLimiter({
          name: `target:${p.name}`,
          provider: p.name,
          limits: p.rateLimit ?? {},
          store,
          queue: limiting.queue,
          maxHoldMs: config.pipeline.retry.maxRetryAfterMs,
        }),
      },
    ]),
  );
  const members = new Map<string, RouteMember>();

  const memberFor = (
    providerConfig: ProviderConfig,
    model: string,
    weight: number,
    retry: RetryConfig,
    maxOutputTokens: number | undefined,
  ): RouteMember => {
    const key = `${providerConfig.name}\u0000${model}\u0000${JSON.stringify(retry)}\u0000${String(maxOutputTokens)}`;
    const existing = members.get(key);
    if (existing) return { ...existing, weight };
    const runtime = runtimes.get(providerConfig.name);
    if (!runtime) throw new Error(`no runtime for provider ${providerConfig.name}`);
    let target = runtime.targets.find((t) => t.model === model);
    if (!target) {
      const name = providerConfig.name;
      const breaker = new CircuitBreaker(
        { provider: name, model },
        providerConfig.circuitBreaker,
        Date.now,
        (to, from) => onCircuit?.(name, model, to, from),
      );
      target = { model, breaker, stats: new TargetStats() };
      runtime.targets.push(target);
    }
    const adapter = adapterOf(providerConfig.name);
    // One layer per target: its loop of attempts, each through the hooks in the order docs/architecture.md
    // draws, under the time limits; retried as the retry policy decides.
    const provider = attemptPolicy(adapter, {
      hooks: [
        rateLimitHook(runtime.limiter, estimator, maxOutputTokens === undefined ? {} : { maxOutputTokens }),
        circuitBreakerHook(target.breaker),
        attemptRecordingHook(adapter),
      ],
      timeouts: providerConfig.timeouts,
      retry: retrier(adapter.name, retry, new RetryBudget(retry.budget)),
    });
    const member: RouteMember = {
      provider,
      model,
      weight,
      breaker: target.breaker,
      stats: target.stats,
      health: checker.stateOf(providerConfig.name),
    };
    members.set(key, member);
    return member;
  };

  const routes: Route[] = config.models.map((model) => {
    const retry: RetryConfig = { ...config.pipeline.retry, ...model.retry };
    const routeMembers = model.targets.map((t) => {
      const providerConfig = providerConfigs.get(t.provider);
      if (!providerConfig) throw new Error(`model ${model.name}: unknown provider ${t.provider}`);
      return memberFor(providerConfig, t.model, t.weight, retry, t.maxOutputTokens);
    });
    const outputCap = routeOutputCap(model.targets.map((t) => t.maxOutputTokens));
    const perClient = {
      acquire: (estimate: Parameters<ClientRateLimiter["acquire"]>[1], signal: AbortSignal, context?: CallContext) =>
        clients.acquire(context?.clientId ?? "", estimate, signal, context),
    };
    // The per-client limit is the route's own hook: begun once per call, whichever targets serve it.
    const clientLimit = rateLimitHook(perClient, estimator, {
      estimateAs: routeMembers[0]?.model ?? model.name,
      // The client's window is charged at most what the most generous target could return.
      ...outputCap,
    });
    const route = new RouteProvider({
      name: model.name,
      members: routeMembers,
      routing: model.routing,
      hooks: [clientLimit],
    });
    return {
      name: model.name,
      provider: withOutputLimit(route, model.name, outputCap.maxOutputTokens),
      targets: routeMembers.map((m) => ({ provider: m.provider.name, providerType: m.provider.type, model: m.model })),
    };
  });

  return {
    router: new ModelRouter(routes),
    estimator,
    providers: [...runtimes.values()],
    get storeState() {
      return store.state;
    },
    start: async () => {
      await TokenEstimator.preload(config.models.flatMap((m) => m.targets.map((t) => t.model)));
      checker.start();
    },
    stop: async () => {
      checker.stop();
      await store.close();
    },
  };
}

/** The largest output limit of a route's targets, when every target has one (otherwise no cap). */
function routeOutputCap(caps: readonly (number | undefined)[]): { maxOutputTokens?: number } {
  const known = caps.filter((cap): cap is number => cap !== undefined);
  return known.length === caps.length && known.length > 0 ? { maxOutputTokens: Math.max(...known) } : {};
}
