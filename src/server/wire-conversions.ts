import { create, type MessageInitShape } from "@bufbuild/protobuf";
import {
  FinishReason as WireFinishReason,
  ResponseMetadataSchema,
  UsageSchema,
} from "../../gen/llm/v1/llm_service_pb.js";
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
