import type { FinishReason, StreamPart, TokenUsage } from "../provider.js";
import { ProviderError } from "../provider-error.js";
import type { UpstreamRateLimit } from "../upstream-rate-limit.js";
import { openAIFinishReason } from "./openai-finish-reason.js";
import { openAIUsage, type OpenAIWireUsage } from "./openai-usage.js";

/** What the stream reader needs from a chat or a legacy completion chunk. */
export interface OpenAIStreamChunk {
  id: string;
  model: string;
  usage?: OpenAIWireUsage | null;
  choices: Array<{ index: number; finish_reason: string | null }>;
}

/** How to read one upstream stream. */
export interface OpenAIStreamOptions<C extends OpenAIStreamChunk> {
  provider: string;
  providerRequestId: string | undefined;
  /** The rate-limit state from the stream's response headers, put on the finish part. */
  rateLimit?: UpstreamRateLimit | undefined;
  /**
   * Whether a stream that ends without its usage chunk failed (OpenAI and Azure always send it when
   * asked) or just has zero usage (some OpenAI-compatible servers never send it).
   */
  requireUsage: boolean;
  /** The text delta of the chunk's choice of index 0 (the one whose finish reason ends the stream). */
  text(choice: C["choices"][number]): string | null | undefined;
}

/**
 * Domain stream parts from OpenAI-family chunks: one delta per non-empty text, then exactly one finish
 * after the upstream stream ended. A stream that ends without a finish_reason (or, when required,
 * usage) throws ProviderError `unavailable`: a cut stream must never look like a success.
 */
export async function* openAIStream<C extends OpenAIStreamChunk>(
  chunks: AsyncIterable<C>,
  options: OpenAIStreamOptions<C>,
): AsyncGenerator<StreamPart, void, undefined> {
  let id = "";
  let model = "";
  let finishReason: FinishReason | undefined;
  let usage: TokenUsage | undefined;
  for await (const chunk of chunks) {
    if (id === "" && chunk.id) id = chunk.id;
    if (model === "" && chunk.model) model = chunk.model;
    if (chunk.usage) usage = openAIUsage(chunk.usage);
    const choice = chunk.choices.find((c) => c.index === 0);
    if (!choice) continue;
    const text = options.text(choice);
    if (text) yield { type: "delta", text };
    if (choice.finish_reason) finishReason = openAIFinishReason(choice.finish_reason);
  }
  if (finishReason === undefined || (usage === undefined && options.requireUsage)) {
    throw new ProviderError({
      kind: "unavailable",
      provider: options.provider,
      providerRequestId: options.providerRequestId,
      message: `${options.provider}: stream ended before it completed`,
    });
  }
  yield {
    type: "finish",
    id,
    finishReason,
    usage: usage ?? openAIUsage(undefined),
    model,
    providerRequestId: options.providerRequestId,
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
  };
}
