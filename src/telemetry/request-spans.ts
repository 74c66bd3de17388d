import { ROOT_CONTEXT, SpanKind, trace, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import type { AttemptRecord, PipelineEvent } from "../providers/call-context.js";
import { recordAttemptSpan } from "./attempt-span.js";
import { gatewayAttributes as gw } from "./gateway-attributes.js";
import { genAiAttributes as gen } from "./gen-ai-attributes.js";
import type { ProviderEndpoint } from "./provider-endpoint.js";
import type { RequestContent, RequestSummary } from "./request-summary.js";
import { attemptEnd, requestTiming } from "./request-timing.js";

/** How request spans are built. */
export interface RequestSpanOptions {
  /** Put prompt and completion text on attempt spans (when the summary carries it). */
  recordContent: boolean;
  /** Provider name → its host, for `server.address`. */
  endpoints: ReadonlyMap<string, ProviderEndpoint>;
}

/**
 * Records a finished request under its RPC span: usage, cost, tenant and routing attributes on the RPC span;
 * one CLIENT child span per provider attempt; an INTERNAL `queue wait` child per rate-limit wait; retries,
 * fallbacks and stream continuations as events of the RPC span. Pipeline events carry no timestamps of their
 * own (unless they have an `at`), so a wait is placed to end where the next attempt starts, and a retry or
 * fallback at the end of the attempt before it.
 */
export function recordRequestSpans(
  tracer: Tracer,
  rpcSpan: Span,
  summary: RequestSummary,
  options: RequestSpanOptions,
): void {
  rpcSpan.setAttributes(rpcAttributes(summary));
  const parent = trace.setSpan(ROOT_CONTEXT, rpcSpan);
  const { events } = summary.trace;
  const content = options.recordContent ? contentJson(summary.content) : undefined;
  const served = summary.code === 0 ? lastSuccessful(events) : undefined;
  let attempts = 0;
  let cursor = summary.startedAt;
  events.forEach((event, i) => {
    switch (event.type) {
      case "attempt": {
        attempts += 1;
        recordAttemptSpan(tracer, parent, event, {
          index: attempts,
          requestEndedAt: summary.endedAt,
          endpoint: options.endpoints.get(event.provider),
          ...(content?.input === undefined ? {} : { inputMessages: content.input }),
          ...(event === served && content?.output !== undefined ? { outputMessages: content.output } : {}),
        });
        cursor = attemptEnd(event, summary.endedAt);
        break;
      }
      case "queued": {
        const end = timeOf(event) ?? nextAttemptStart(events, i) ?? cursor + event.waitedMs;
        tracer
          .startSpan(
            `queue wait ${event.limiter}`,
            {
              kind: SpanKind.INTERNAL,
              startTime: end - event.waitedMs,
              attributes: { [gw.limiter]: event.limiter, [gw.queueWaitMs]: event.waitedMs },
            },
            parent,
          )
          .end(end);
        cursor = Math.max(cursor, end);
        break;
      }
      case "retry":
        rpcSpan.addEvent(
          "llm_gateway.retry",
          {
            [gw.provider]: event.provider,
            [gen.requestModel]: event.model,
            [gw.attempt]: event.attempt,
            [gw.retryDelayMs]: event.delayMs,
            [gw.reason]: event.reason,
          },
          timeOf(event) ?? cursor,
        );
        break;
      case "fallback":
        rpcSpan.addEvent(
          "llm_gateway.fallback",
          {
            [gw.fromProvider]: event.fromProvider,
            [gw.fromModel]: event.fromModel,
            [gw.toProvider]: event.toProvider,
            [gw.toModel]: event.toModel,
            [gw.reason]: event.reason,
          },
          timeOf(event) ?? cursor,
        );
        break;
      case "stream_continued":
        rpcSpan.addEvent(
          "llm_gateway.stream_continued",
          {
            [gw.fromProvider]: event.fromProvider,
            [gw.toProvider]: event.toProvider,
            [gw.deliveredChars]: event.deliveredChars,
            [gw.reason]: event.reason,
          },
          timeOf(event) ?? cursor,
        );
        break;
    }
  });
}

/** The RPC span's request-level attributes: who asked, what was served, tokens, cost, latency split. */
function rpcAttributes(summary: RequestSummary): Attributes {
  const timing = requestTiming(summary);
  const attributes: Attributes = {
    [gw.requestId]: summary.requestId,
    [gw.model]: summary.model,
    [gw.stream]: summary.stream,
    [gw.attempts]: summary.trace.events.filter((e) => e.type === "attempt").length,
    [gw.addedLatencyMs]: Math.round(timing.addedMs * 1000) / 1000,
    [gw.costMicros]: Number(summary.costMicros),
    [gw.costUnknown]: summary.costUnknown,
  };
  if (summary.tenant !== "") attributes[gw.tenant] = summary.tenant;
  if (summary.keyId !== "") attributes[gw.keyId] = summary.keyId;
  else if (summary.clientId !== "") attributes[gw.clientId] = summary.clientId;
  if (summary.errorKind !== undefined) attributes[gw.errorKind] = summary.errorKind;
  const servedBy = summary.trace.servedBy;
  if (servedBy !== undefined) {
    attributes[gw.servedProvider] = servedBy.provider;
    attributes[gw.servedProviderType] = servedBy.providerType;
    attributes[gw.servedModel] = servedBy.model;
  }
  if (summary.usage !== undefined) {
    attributes[gen.usageInputTokens] = summary.usage.promptTokens;
    attributes[gen.usageOutputTokens] = summary.usage.completionTokens;
    attributes[gw.cachedInputTokens] = summary.usage.cachedPromptTokens;
    attributes[gw.cacheHit] = summary.usage.cachedPromptTokens > 0;
  }
  if (summary.stream) {
    attributes[gw.chunks] = summary.chunks;
    if (timing.timeToFirstChunkMs !== undefined)
      attributes[gen.responseTimeToFirstChunk] = timing.timeToFirstChunkMs / 1000;
  }
  return attributes;
}

/** A pipeline event's own timestamp, for events that carry one (`at`, epoch ms). */
function timeOf(event: PipelineEvent): number | undefined {
  return "at" in event && typeof event.at === "number" ? event.at : undefined;
}

function nextAttemptStart(events: readonly PipelineEvent[], from: number): number | undefined {
  for (let i = from + 1; i < events.length; i++) {
    const event = events[i];
    if (event?.type === "attempt") return event.startedAt;
  }
  return undefined;
}

function lastSuccessful(events: readonly PipelineEvent[]): AttemptRecord | undefined {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.type === "attempt" && event.error === undefined) return event;
  }
  return undefined;
}

/** Content in the GenAI conventions' message shape (`{ role, parts: [{ type: "text", content }] }`), as JSON. */
function contentJson(content: RequestContent | undefined): { input?: string; output?: string } | undefined {
  if (content === undefined) return undefined;
  const text = (value: string): { type: "text"; content: string }[] => [{ type: "text", content: value }];
  return {
    ...(content.input === undefined
      ? {}
      : { input: JSON.stringify(content.input.map((m) => ({ role: m.role, parts: text(m.content) }))) }),
    ...(content.output === undefined
      ? {}
      : { output: JSON.stringify([{ role: "assistant", parts: text(content.output) }]) }),
  };
}
