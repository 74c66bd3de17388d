import type Anthropic from "@anthropic-ai/sdk";
import type { Message } from "@anthropic-ai/sdk/resources/messages";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../provider.js";
import { ProviderError } from "../provider-error.js";
import { streamedCall } from "../pooled-fetch.js";
import { upstreamRateLimit, type UpstreamRateLimit } from "../upstream-rate-limit.js";
import { anthropicError } from "./anthropic-error.js";
import { anthropicFinishReason } from "./anthropic-finish-reason.js";
import { anthropicParams, type AnthropicParams } from "./anthropic-params.js";
import { anthropicStream } from "./anthropic-stream.js";
import { anthropicUsage } from "./anthropic-usage.js";
import type { CallContext } from "../call-context.js";
import { responseHeadersWatch } from "../response-headers-watch.js";

/** What an AnthropicProvider needs besides its SDK client. */
export interface AnthropicProviderOptions {
  /** The configured provider name, used in errors. */
  name: string;
  /** Fills `max_tokens`, which the Messages API requires, when a request has none. */
  defaultMaxTokens: number;
}

/**
 * The Anthropic Messages API behind the gateway's Provider interface. Completions are sent as one user
 * message; embeddings are refused as `unsupported` (Anthropic has none). Every call passes the caller's
 * signal to the SDK, so a cancel aborts the upstream HTTP request, and every failure leaves as a
 * ProviderError. The client is expected to be built with `maxRetries: 0`: retries belong to the pipeline.
 */
export class AnthropicProvider implements Provider {
  readonly type = "anthropic" as const;
  readonly name: string;
  readonly #client: Anthropic;
  readonly #defaultMaxTokens: number;
  /** The client's API key, cut out of every error message (a last line of defence behind the scrubbing). */
  readonly #secret: string | undefined;

  constructor(client: Anthropic, options: AnthropicProviderOptions) {
    this.#client = client;
    this.#secret = client.apiKey ?? undefined;
    this.name = options.name;
    this.#defaultMaxTokens = options.defaultMaxTokens;
  }

  async chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    const params = anthropicParams(request, this.#defaultMaxTokens, this.name);
    try {
      const { data, request_id, response } = await this.#client.messages
        .create(params, { signal, ...responseHeadersWatch(context) })
        .withResponse();
      return toGenerationResult(data, request_id ?? undefined, upstreamRateLimit(response.headers));
    } catch (error) {
      throw anthropicError(error, this.name, signal, this.#secret);
    }
  }

  async *streamChat(request: ChatRequest, signal: AbortSignal): AsyncGenerator<StreamPart, void, undefined> {
    const params = anthropicParams(request, this.#defaultMaxTokens, this.name);
    const { data, request_id, response } = await this.#openStream(params, signal);
    yield* anthropicStream(data, {
      provider: this.name,
      signal,
      providerRequestId: request_id ?? undefined,
      rateLimit: upstreamRateLimit(response.headers),
      secret: this.#secret,
    });
  }

  complete(request: CompletionRequest, signal: AbortSignal): Promise<GenerationResult> {
    return this.chat(toChatRequest(request), signal);
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal): AsyncGenerator<StreamPart, void, undefined> {
    return this.streamChat(toChatRequest(request), signal);
  }

  async embed(request: EmbedRequest, _signal: AbortSignal): Promise<EmbedResult> {
    throw new ProviderError({
      kind: "unsupported",
      provider: this.name,
      message: `${this.name}: Anthropic offers no embeddings API (model ${request.model})`,
    });
  }

  async #openStream(params: AnthropicParams, signal: AbortSignal) {
    try {
      return await this.#client.messages
        .create({ ...params, stream: true }, { signal, fetchOptions: streamedCall })
        .withResponse();
    } catch (error) {
      throw anthropicError(error, this.name, signal, this.#secret);
    }
  }
}

function toGenerationResult(
  message: Message,
  providerRequestId: string | undefined,
  rateLimit: UpstreamRateLimit | undefined,
): GenerationResult {
  const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
  return {
    id: message.id,
    text,
    finishReason: anthropicFinishReason(message.stop_reason),
    usage: anthropicUsage(message.usage),
    model: message.model,
    ...(providerRequestId === undefined ? {} : { providerRequestId }),
    ...(rateLimit === undefined ? {} : { rateLimit }),
  };
}

function toChatRequest(request: CompletionRequest): ChatRequest {
  const { prompt, ...options } = request;
  return { ...options, messages: [{ role: "user", content: prompt }] };
}
