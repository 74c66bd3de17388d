import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  CircuitState as WireCircuitState,
  FinishReason as WireFinishReason,
  HealthState as WireHealthState,
  type ProviderStatusSchema,
  RateLimitStoreState as WireStoreState,
  ResponseMetadataSchema,
  UsageSchema,
} from "../../gen/llm/v1/llm_service_pb.js";
import type { CircuitState } from "../pipeline/resilience/circuit-breaker.js";
import type { ProviderRuntime } from "../pipeline/compose-pipeline.js";
import type { RateLimitStoreState } from "../pipeline/rate-limit/rate-limit-store.js";
import type { HealthStatus } from "../pipeline/routing/health-checker.js";
import type { ServedMetadata } from "../pipeline/gateway.js";
import type { FinishReason, TokenUsage } from "../providers/provider.js";

const finishReasons: Readonly<Record<FinishReason, WireFinishReason>> = {
  stop: WireFinishReason.STOP,
  length: WireFinishReason.LENGTH,
  content_filter: WireFinishReason.CONTENT_FILTER,
  tool_calls: WireFinishReason.TOOL_CALLS,
  other: WireFinishReason.OTHER,
};

/** The wire enum of a domain finish reason. */
export function toWireFinishReason(reason: FinishReason): WireFinishReason {
  return finishReasons[reason];
}

/** Usage as the wire carries it: tokens plus cost in micro-USD. */
export function toWireUsage(usage: TokenUsage, metadata: ServedMetadata): MessageInitShape<typeof UsageSchema> {
  return create(UsageSchema, {
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    totalTokens: usage.totalTokens,
    costMicros: metadata.costMicros,
    cachedPromptTokens: usage.cachedPromptTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
  });
}

/** Serving metadata as the wire carries it. */
export function toWireMetadata(metadata: ServedMetadata): MessageInitShape<typeof ResponseMetadataSchema> {
  return create(ResponseMetadataSchema, {
    provider: metadata.provider,
    providerType: metadata.providerType,
    model: metadata.model,
    latencyMs: BigInt(metadata.latencyMs),
    attempts: metadata.attempts,
    requestId: metadata.requestId,
    providerRequestId: metadata.providerRequestId ?? "",
    costUnknown: metadata.costUnknown,
  });
}

const circuitStates: Readonly<Record<CircuitState, WireCircuitState>> = {
  closed: WireCircuitState.CLOSED,
  open: WireCircuitState.OPEN,
  half_open: WireCircuitState.HALF_OPEN,
};

const healthStates: Readonly<Record<HealthStatus, WireHealthState>> = {
  unknown: WireHealthState.UNSPECIFIED,
  healthy: WireHealthState.HEALTHY,
  unhealthy: WireHealthState.UNHEALTHY,
};

const storeStates: Readonly<Record<RateLimitStoreState, WireStoreState>> = {
  memory: WireStoreState.MEMORY,
  redis: WireStoreState.REDIS,
  "redis-unreachable": WireStoreState.REDIS_UNREACHABLE,
};

/** A provider's live state as ListProviders shows it. */
export async function toWireProviderStatus(
  provider: ProviderRuntime,
): Promise<MessageInitShape<typeof ProviderStatusSchema>> {
  const headroom = await provider.limiter.headroom();
  const limits = provider.limiter.limits;
  return {
    rateLimit: {
      requestsPerMinute: limits.requestsPerMinute ?? 0,
      tokensPerMinute: limits.tokensPerMinute ?? 0,
      requestsRemaining: BigInt(headroom.requests ?? -1),
      tokensRemaining: BigInt(headroom.tokens ?? -1),
      queued: headroom.queued,
      store: storeStates[headroom.store],
    },
    name: provider.name,
    providerType: provider.type,
    health: healthStates[provider.health.status],
    healthDetail: provider.health.lastError?.message ?? "",
    targets: provider.targets.map((target) => {
      const circuit = target.breaker.snapshot();
      const stats = target.stats.snapshot();
      return {
        model: target.model,
        circuitState: circuitStates[circuit.state],
        consecutiveFailures: circuit.consecutiveFailures,
        errorRate: circuit.errorRate,
        inFlight: stats.inFlight,
        latencyEwmaMs: stats.latencyEwmaMs ?? 0,
      };
    }),
  };
}
