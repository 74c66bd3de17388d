import type { AttemptRecord, CallContext, Operation } from "../providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";

const now = (): number => performance.timeOrigin + performance.now();

/** A call's error as an attempt records it. */
function errorOf(error: unknown): AttemptRecord["error"] {
  return error instanceof ProviderError ? { kind: error.kind, message: error.message } : { kind: "internal", message: "internal error" };
}

/**
 * Records every call that reaches the provider as an AttemptRecord in the call's trace: timing, time to first
 * chunk, usage, finish reason or error. Spans, metrics and logs are built from these records.
 */
export class AttemptRecorder implements Provider {
  readonly name: string;
  readonly type: Provider["type"];

  constructor(private readonly inner: Provider) {
    this.name = inner.name;
    this.type = inner.type;
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary("chat", request, context, () => this.inner.chat(request, signal, context));
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary("text_completion", request, context, () => this.inner.complete(request, signal, context));
  }

  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    return this.#unary("embeddings", request, context, () => this.inner.embed(request, signal, context));
  }

  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream("chat", request, context, () => this.inner.streamChat(request, signal, context));
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream("text_completion", request, context, () => this.inner.streamComplete(request, signal, context));
  }

  #start(operation: Operation, request: { model: string; maxTokens?: number }, stream: boolean): AttemptRecord {
    const record: AttemptRecord = {
      type: "attempt",
      provider: this.name,
      providerType: this.type,
      model: request.model,
      operation,
      stream,
      startedAt: now(),
      endedAt: 0,
      chunks: 0,
    };
    if (request.maxTokens !== undefined) record.maxTokens = request.maxTokens;
    return record;
  }

  async #unary<R extends GenerationResult | EmbedResult>(
    operation: Operation,
    request: { model: string; maxTokens?: number },
    context: CallContext | undefined,
    call: () => Promise<R>,
  ): Promise<R> {
    if (!context) return call();
    const record = this.#start(operation, request, false);
    context.trace.record(record);
    try {
      const result = await call();
      record.responseModel = result.model;
      record.usage = result.usage;
      if ("finishReason" in result) record.finishReason = result.finishReason;
      return result;
    } catch (error) {
      record.error = errorOf(error);
      throw error;
    } finally {
      record.endedAt = now();
    }
  }

  async *#stream(
    operation: Operation,
    request: { model: string; maxTokens?: number },
    context: CallContext | undefined,
    open: () => AsyncIterable<StreamPart>,
  ): AsyncGenerator<StreamPart> {
    if (!context) {
      yield* open();
      return;
    }
    const record = this.#start(operation, request, true);
    context.trace.record(record);
    try {
      for await (const part of open()) {
        if (part.type === "delta") {
          record.firstChunkAt ??= now();
          record.chunks += 1;
        } else {
          record.responseModel = part.model;
          record.usage = part.usage;
          record.finishReason = part.finishReason;
        }
        yield part;
      }
    } catch (error) {
      record.error = errorOf(error);
      throw error;
    } finally {
      record.endedAt = now();
      if (!record.usage && !record.error) record.error = { kind: "cancelled", message: "the consumer stopped reading" };
    }
  }
}
