import type { RawMessageStreamEvent } from "@anthropic-ai/sdk/resources/messages";
import type { StreamPart } from "../provider.js";
import { ProviderError } from "../provider-error.js";
import type { UpstreamRateLimit } from "../upstream-rate-limit.js";
import { anthropicError } from "./anthropic-error.js";
import { anthropicFinishReason } from "./anthropic-finish-reason.js";
import { anthropicUsage, type AnthropicUsageCounts } from "./anthropic-usage.js";

/** What the stream reader needs besides the events. */
export interface AnthropicStreamContext {
  provider: string;
  signal: AbortSignal;
  providerRequestId: string | undefined;
  /** The provider's API key, cut out of any error message. */
  secret?: string | undefined;
  /** The rate-limit state from the stream's response headers, put on the finish part. */
  rateLimit?: UpstreamRateLimit | undefined;
}

/**
 * Reads Anthropic's raw Messages stream into domain stream parts: one `delta` per non-empty text delta,
 * then exactly one `finish` at `message_stop`. Input and cache counts come from `message_start`, output
 * tokens (cumulative) from `message_delta`, which may also update the input counts; the latest wins.
 * A stream that ends without `message_stop`, an error event and a dropped connection all end in a
 * ProviderError, never in a silent end.
 */
export async function* anthropicStream(
  events: AsyncIterable<RawMessageStreamEvent>,
  context: AnthropicStreamContext,
): AsyncGenerator<StreamPart, void, undefined> {
  const { provider, signal } = context;
  let started: { id: string; model: string } | undefined;
  let stopReason: string | null = null;
  const counts: AnthropicUsageCounts = {};
  try {
    for await (const event of events) {
      if (signal.aborted) break;
      switch (event.type) {
        case "message_start":
          started = { id: event.message.id, model: event.message.model };
          mergeCounts(counts, event.message.usage);
          break;
        case "content_block_delta":
          if (event.delta.type === "text_delta" && event.delta.text !== "") {
            yield { type: "delta", text: event.delta.text };
          }
          break;
        case "message_delta":
          stopReason = event.delta.stop_reason ?? stopReason;
          mergeCounts(counts, event.usage);
          break;
        case "message_stop":
          if (started === undefined) {
            const message = `${provider}: stream finished without message_start`;
            throw new ProviderError({ kind: "internal", provider, message });
          }
          yield {
            type: "finish",
            id: started.id,
            finishReason: anthropicFinishReason(stopReason),
            usage: anthropicUsage(counts),
            model: started.model,
            ...(context.providerRequestId === undefined ? {} : { providerRequestId: context.providerRequestId }),
            ...(context.rateLimit === undefined ? {} : { rateLimit: context.rateLimit }),
          };
          return;
        default:
          break;
      }
    }
  } catch (error) {
    throw anthropicError(error, provider, signal, context.secret);
  }
  if (signal.aborted) throw anthropicError(signal.reason, provider, signal, context.secret);
  throw new ProviderError({ kind: "unavailable", provider, message: `${provider}: stream ended before it completed` });
}

const countFields = [
  "input_tokens",
  "cache_read_input_tokens",
  "cache_creation_input_tokens",
  "output_tokens",
] as const;

/** Copies the counts an event reports over the ones known so far; absent and null counts change nothing. */
function mergeCounts(counts: AnthropicUsageCounts, update: AnthropicUsageCounts): void {
  for (const field of countFields) {
    const value = update[field];
    if (typeof value === "number") counts[field] = value;
  }
}
