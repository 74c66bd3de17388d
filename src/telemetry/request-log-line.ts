import type { SpanContext } from "@opentelemetry/api";
import { isSpanContextValid } from "@opentelemetry/api";
import { grpcStatus } from "./grpc-status.js";
import type { RequestSummary } from "./request-summary.js";
import { attemptEnd, requestTiming } from "./request-timing.js";

const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * The fields of the one structured log line written per request: ids (request, trace), who asked (tenant,
 * client), what was asked and served, status, tokens, cost, latency split and the attempts made. Error
 * messages and request content are left out: kinds only, so no provider echo of a key or prompt lands here.
 */
export function requestLogLine(summary: RequestSummary, spanContext: SpanContext): Record<string, unknown> {
  const timing = requestTiming(summary);
  const servedBy = summary.trace.servedBy;
  const attempts = summary.trace.events.flatMap((event) =>
    event.type === "attempt"
      ? [
          {
            provider: event.provider,
            model: event.model,
            ms: round(attemptEnd(event, summary.endedAt) - event.startedAt),
            ...(event.error === undefined ? {} : { error: event.error.kind }),
          },
        ]
      : [],
  );
  const count = (type: string): number => summary.trace.events.filter((e) => e.type === type).length;
  return {
    requestId: summary.requestId,
    ...(isSpanContextValid(spanContext) ? { traceId: spanContext.traceId, spanId: spanContext.spanId } : {}),
    rpc: summary.rpc,
    tenant: summary.tenant,
    ...(summary.keyId === "" ? { clientId: summary.clientId } : { keyId: summary.keyId }),
    model: summary.model,
    provider: servedBy?.provider,
    providerModel: servedBy?.model,
    status: grpcStatus.name(summary.code),
    ...(summary.errorKind === undefined ? {} : { errorKind: summary.errorKind }),
    stream: summary.stream,
    promptTokens: summary.usage?.promptTokens,
    completionTokens: summary.usage?.completionTokens,
    cachedTokens: summary.usage?.cachedPromptTokens,
    costMicros: Number(summary.costMicros),
    costUnknown: summary.costUnknown,
    latencyMs: round(timing.totalMs),
    providerMs: round(timing.providerMs),
    addedLatencyMs: round(timing.addedMs),
    ...(timing.timeToFirstChunkMs === undefined
      ? {}
      : { timeToFirstChunkMs: round(timing.timeToFirstChunkMs), chunks: summary.chunks }),
    attempts,
    retries: count("retry"),
    fallbacks: count("fallback"),
  };
}
