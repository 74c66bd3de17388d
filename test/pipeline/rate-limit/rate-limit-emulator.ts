import { rateLimitingSchema, type RateLimitConfig } from "../../../src/config/pipeline-schema.js";
import type { Emulator } from "../../../src/emulator/emulator.js";
import { withRateLimit } from "../../../src/pipeline/rate-limit/rate-limit-policy.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimiter } from "../../../src/pipeline/rate-limit/rate-limiter.js";
import { TokenEstimator } from "../../../src/pipeline/rate-limit/tokens/token-estimator.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider } from "../../../src/providers/provider.js";
import { anthropicEmulatorConfig } from "../../providers/anthropic/anthropic-emulator-config.js";
import { openAITestConfig } from "../../providers/openai/openai-test-config.js";

/** A rate-limited target over a real adapter talking to the emulator, with its parts for tests to inspect. */
export interface RateLimitedTarget {
  provider: Provider;
  limiter: RateLimiter;
  estimator: TokenEstimator;
  /** The adapter itself, for tests that wrap it before the policy. */
  adapter: Provider;
}

/** How a test target is limited. */
export interface RateLimitedTargetOptions {
  vendor?: "openai" | "anthropic";
  limits?: RateLimitConfig;
  windowMs?: number;
  queue?: { maxDepth: number; maxWaitMs: number };
  /** Wraps the adapter before the policy (to record what reaches the provider). */
  wrap?: (adapter: Provider) => Provider;
}

/** Builds a rate-limited OpenAI or Anthropic target on the emulator, with a memory store of its own. */
export function rateLimitedTarget(emulator: Emulator, options: RateLimitedTargetOptions = {}): RateLimitedTarget {
  const adapter =
    options.vendor === "anthropic"
      ? createAnthropicProvider(anthropicEmulatorConfig(emulator.url))
      : createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`));
  const limiter = new RateLimiter({
    name: `target:${adapter.name}`,
    provider: adapter.name,
    limits: options.limits ?? {},
    store: createRateLimitStore(rateLimitingSchema.parse({})),
    queue: options.queue ?? { maxDepth: 64, maxWaitMs: 120_000 },
    ...(options.windowMs === undefined ? {} : { windowMs: options.windowMs }),
  });
  const estimator = new TokenEstimator({ defaultMaxTokens: 1024 });
  const inner = options.wrap ? options.wrap(adapter) : adapter;
  return { provider: withRateLimit(inner, limiter, estimator), limiter, estimator, adapter };
}

/** A call context with an optional deadline `inMs` from now. */
export function rateLimitContext(inMs?: number): CallContext {
  return { deadline: inMs === undefined ? undefined : Date.now() + inMs, clientId: "", trace: new CallTrace() };
}

/** Lets fire-and-forget settlements reach the memory store. */
export function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 10));
}
