import type { OpenAI } from "openai";
import type { ChatCompletionChunk, Completion } from "openai/resources";
import type { ProviderType } from "../../config/provider-type.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../provider.js";
import type { ProviderError } from "../provider-error.js";
import { streamedCall } from "../pooled-fetch.js";
import { upstreamRateLimit } from "../upstream-rate-limit.js";
import { CallDeadline } from "./call-deadline.js";
import { openAIErrorToProviderError } from "./openai-error.js";
import { openAIParams } from "./openai-params.js";
import { openAIRequestId } from "./openai-request-id.js";
import { openAIResults } from "./openai-results.js";
import { openAIStream, type OpenAIStreamChunk } from "./openai-stream.js";
import type { CallContext } from "../call-context.js";
import { responseHeadersWatch } from "../response-headers-watch.js";

/** What an OpenAI-family adapter is built from; the factories fill it per vendor. */
export interface OpenAIProviderOptions {
  /** The configured provider name. */
  name: string;
  type: ProviderType;
  /** An SDK client built with `maxRetries: 0`: the gateway's pipeline owns retries. */
  client: OpenAI;
  /** Time limit of one whole upstream call, body and stream included. */
  timeoutMs: number;
  /** Whether a stream without its usage chunk is a failure (see OpenAIStreamOptions.requireUsage). */
  requireStreamUsage: boolean;
}

/**
 * The Provider for every vendor that speaks the OpenAI wire protocol (OpenAI, Azure OpenAI, vLLM,
 * Ollama, Groq...) through the official SDK. Each call passes the caller's signal to the SDK, so a
 * cancel aborts the upstream HTTP request at once, and every failure leaves as a ProviderError.
 */
export class OpenAIProvider implements Provider {
  readonly name: string;
  readonly type: ProviderType;
  readonly #client: OpenAI;
  readonly #timeoutMs: number;
  readonly #requireStreamUsage: boolean;

  constructor(options: OpenAIProviderOptions) {
    this.name = options.name;
    this.type = options.type;
    this.#client = options.client;
    this.#timeoutMs = options.timeoutMs;
    this.#requireStreamUsage = options.requireStreamUsage;
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(signal, async (callSignal) => {
      const body = openAIParams.chat(request, this.name);
      const { data, response } = await this.#client.chat.completions
        .create(body, { signal: callSignal, ...responseHeadersWatch(context) })
        .withResponse();
      return openAIResults.chat(data, openAIRequestId(response.headers), upstreamRateLimit(response.headers));
    });
  }

  streamChat(request: ChatRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
    return this.#stream<ChatCompletionChunk>(signal, async (callSignal) => {
      const body = openAIParams.chatStream(request, this.name);
      const { data, response } = await this.#client.chat.completions
        .create(body, { signal: callSignal, fetchOptions: streamedCall })
        .withResponse();
      return { chunks: data, headers: response.headers, text: (choice) => choice.delta.content };
    });
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(signal, async (callSignal) => {
      const body = openAIParams.completion(request);
      const { data, response } = await this.#client.completions
        .create(body, { signal: callSignal, ...responseHeadersWatch(context) })
        .withResponse();
      return openAIResults.completion(data, openAIRequestId(response.headers), upstreamRateLimit(response.headers));
    });
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal): AsyncIterable<StreamPart> {
    return this.#stream<Completion>(signal, async (callSignal) => {
      const body = openAIParams.completionStream(request);
      const { data, response } = await this.#client.completions
        .create(body, { signal: callSignal, fetchOptions: streamedCall })
        .withResponse();
      return { chunks: data, headers: response.headers, text: (choice) => choice.text };
    });
  }

  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    return this.#unary(signal, async (callSignal) => {
      const body = openAIParams.embedding(request);
      const { data, response } = await this.#client.embeddings
        .create(body, { signal: callSignal, ...responseHeadersWatch(context) })
        .withResponse();
      const requestId = openAIRequestId(response.headers);
      return openAIResults.embedding(data, request.inputs.length, requestId, upstreamRateLimit(response.headers));
    });
  }

  async #unary<T>(signal: AbortSignal, call: (callSignal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new CallDeadline(signal, this.#timeoutMs);
    try {
      return await call(deadline.signal);
    } catch (error) {
      throw this.#providerError(error, signal, deadline, undefined);
    } finally {
      deadline.dispose();
    }
  }

  async *#stream<C extends OpenAIStreamChunk>(
    signal: AbortSignal,
    open: (callSignal: AbortSignal) => Promise<OpenedStream<C>>,
  ): AsyncGenerator<StreamPart, void, undefined> {
    const deadline = new CallDeadline(signal, this.#timeoutMs);
    let providerRequestId: string | undefined;
    try {
      const opened = await open(deadline.signal);
      providerRequestId = openAIRequestId(opened.headers);
      yield* openAIStream(opened.chunks, {
        provider: this.name,
        providerRequestId,
        rateLimit: upstreamRateLimit(opened.headers),
        requireUsage: this.#requireStreamUsage,
        text: opened.text,
      });
    } catch (error) {
      throw this.#providerError(error, signal, deadline, providerRequestId);
    } finally {
      deadline.dispose();
    }
  }

  #providerError(
    error: unknown,
    signal: AbortSignal,
    deadline: CallDeadline,
    providerRequestId: string | undefined,
  ): ProviderError {
    return openAIErrorToProviderError(error, {
      provider: this.name,
      signal,
      deadlinePassed: deadline.passed,
      providerRequestId,
      secret: this.#client.apiKey ?? undefined,
    });
  }
}

/** An upstream stream once its response headers arrived. */
interface OpenedStream<C extends OpenAIStreamChunk> {
  chunks: AsyncIterable<C>;
  headers: Headers;
  /** The text delta of the chunk's choice of index 0. */
  text(choice: C["choices"][number]): string | null | undefined;
}
