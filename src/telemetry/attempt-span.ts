import { SpanKind, SpanStatusCode, type Attributes, type Context, type Tracer } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from "@opentelemetry/semantic-conventions";
import type { AttemptRecord } from "../providers/call-context.js";
import type { FinishReason } from "../providers/provider.js";
import { gatewayAttributes as gw } from "./gateway-attributes.js";
import { genAiAttributes as gen } from "./gen-ai-attributes.js";
import { genAiProviderName } from "./gen-ai-provider-name.js";
import type { ProviderEndpoint } from "./provider-endpoint.js";
import { attemptEnd } from "./request-timing.js";
import { safeErrorMessage } from "./safe-error-message.js";

/** What an attempt span needs beyond its record. */
export interface AttemptSpanContext {
  /** 1-based position among the request's attempts. */
  index: number;
  requestEndedAt: number;
  endpoint: ProviderEndpoint | undefined;
  /** `gen_ai.input.messages` / `gen_ai.output.messages` JSON, only when content recording is on. */
  inputMessages?: string;
  outputMessages?: string;
}

/** Finish reasons as the GenAI conventions spell them. */
const finishReasonNames: Readonly<Record<FinishReason, string>> = {
  stop: "stop",
  length: "length",
  content_filter: "content_filter",
  tool_calls: "tool_call",
  other: "other",
};

/**
 * Turns one provider call into a CLIENT span named `{operation} {model}` under `parent`, with its recorded
 * start and end times and the GenAI semantic-convention attributes; a failed call gets `error.type` (the
 * error kind) and an ERROR status whose message holds no credentials.
 */
export function recordAttemptSpan(
  tracer: Tracer,
  parent: Context,
  attempt: AttemptRecord,
  context: AttemptSpanContext,
): void {
  const attributes: Attributes = {
    [gen.operationName]: attempt.operation,
    [gen.providerName]: genAiProviderName(attempt.providerType, attempt.provider),
    [gen.requestModel]: attempt.model,
    [gw.provider]: attempt.provider,
    [gw.attempt]: context.index,
  };
  if (attempt.maxTokens !== undefined) attributes[gen.requestMaxTokens] = attempt.maxTokens;
  if (attempt.responseModel !== undefined) attributes[gen.responseModel] = attempt.responseModel;
  if (attempt.finishReason !== undefined)
    attributes[gen.responseFinishReasons] = [finishReasonNames[attempt.finishReason]];
  if (attempt.usage !== undefined) {
    attributes[gen.usageInputTokens] = attempt.usage.promptTokens;
    attributes[gen.usageOutputTokens] = attempt.usage.completionTokens;
    if (attempt.usage.cachedPromptTokens > 0)
      attributes[gen.usageCacheReadInputTokens] = attempt.usage.cachedPromptTokens;
    if (attempt.usage.cacheWriteTokens > 0)
      attributes[gen.usageCacheCreationInputTokens] = attempt.usage.cacheWriteTokens;
  }
  if (attempt.stream) {
    attributes[gen.requestStream] = true;
    attributes[gw.chunks] = attempt.chunks;
    if (attempt.firstChunkAt !== undefined)
      attributes[gen.responseTimeToFirstChunk] = (attempt.firstChunkAt - attempt.startedAt) / 1000;
  }
  if (context.endpoint !== undefined) {
    attributes[ATTR_SERVER_ADDRESS] = context.endpoint.address;
    attributes[ATTR_SERVER_PORT] = context.endpoint.port;
  }
  if (attempt.error !== undefined) attributes[ATTR_ERROR_TYPE] = attempt.error.kind;
  if (context.inputMessages !== undefined) attributes[gen.inputMessages] = context.inputMessages;
  if (context.outputMessages !== undefined) attributes[gen.outputMessages] = context.outputMessages;

  const span = tracer.startSpan(
    `${attempt.operation} ${attempt.model}`,
    { kind: SpanKind.CLIENT, startTime: attempt.startedAt, attributes },
    parent,
  );
  if (attempt.firstChunkAt !== undefined) span.addEvent("gen_ai.first_chunk", attempt.firstChunkAt);
  if (attempt.error !== undefined)
    span.setStatus({ code: SpanStatusCode.ERROR, message: safeErrorMessage(attempt.error) });
  span.end(attemptEnd(attempt, context.requestEndedAt));
}
