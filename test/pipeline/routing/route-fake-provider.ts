import type { ProviderType } from "../../../src/config/provider-type.js";
import type { CallContext } from "../../../src/providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
  TokenUsage,
} from "../../../src/providers/provider.js";
import { ProviderError, type ProviderErrorKind } from "../../../src/providers/provider-error.js";

/** What a fake call does: answer `text` (streams: one word per delta), or fail, possibly after some deltas. */
export interface FakeOutcome {
  text?: string;
  error?: ProviderError;
  /** Streams: deltas sent before `error` is thrown (default 0). */
  errorAfterChunks?: number;
  /** Wait before answering (or failing), ending early with `cancelled` when the signal aborts. */
  delayMs?: number;
  /** Never answer until the signal aborts. */
  hang?: boolean;
}

/** One call a fake received. */
export interface FakeCall {
  operation: "chat" | "complete" | "embed" | "streamChat" | "streamComplete";
  model: string;
  request: ChatRequest | CompletionRequest | EmbedRequest;
  context: CallContext | undefined;
}

/** A ProviderError of `kind` from `provider`. */
export function routeError(
  provider: string,
  kind: ProviderErrorKind,
  extra: { retryAfterMs?: number; retriesExhausted?: boolean } = {},
): ProviderError {
  return new ProviderError({ kind, provider, message: `${provider}: ${kind}`, ...extra });
}

function usageOf(completionTokens: number): TokenUsage {
  return {
    promptTokens: 10,
    completionTokens,
    totalTokens: 10 + completionTokens,
    cachedPromptTokens: 0,
    cacheWriteTokens: 0,
  };
}

/** Waits `ms` (forever when infinite) or until the signal aborts, then fails as cancelled. */
function pause(ms: number, signal: AbortSignal, provider: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = (): void => {
      clearTimeout(timer);
      reject(new ProviderError({ kind: "cancelled", provider, message: `${provider}: cancelled` }));
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener("abort", cancelled);
          resolve();
        }, ms)
      : undefined;
    if (signal.aborted) cancelled();
    else signal.addEventListener("abort", cancelled, { once: true });
  });
}

/**
 * A scripted Provider for routing tests: each call takes its outcome from `script(callIndex)` (the index
 * counts this fake's calls) and is recorded in `calls`.
 */
export class RouteFakeProvider implements Provider {
  readonly calls: FakeCall[] = [];

  constructor(
    readonly name: string,
    private readonly script: (call: number) => FakeOutcome,
    readonly type: ProviderType = "openai",
  ) {}

  /** A fake that always answers `text`. */
  static answering(name: string, text = `answer from ${name}`, type: ProviderType = "openai"): RouteFakeProvider {
    return new RouteFakeProvider(name, () => ({ text }), type);
  }

  /** A fake that always fails with `kind`. */
  static failing(name: string, kind: ProviderErrorKind, type: ProviderType = "openai"): RouteFakeProvider {
    return new RouteFakeProvider(name, () => ({ error: routeError(name, kind) }), type);
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary("chat", request, signal, context);
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary("complete", request, signal, context);
  }

  async embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    const result = await this.#unary("embed", request, signal, context);
    return { embeddings: request.inputs.map(() => [1, 0]), usage: result.usage, model: result.model };
  }

  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream("streamChat", request, signal, context);
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream("streamComplete", request, signal, context);
  }

  async #begin(
    operation: FakeCall["operation"],
    request: FakeCall["request"],
    signal: AbortSignal,
    context: CallContext | undefined,
  ): Promise<FakeOutcome> {
    const outcome = this.script(this.calls.length);
    this.calls.push({ operation, model: request.model, request, context });
    if (outcome.hang === true) await pause(Number.POSITIVE_INFINITY, signal, this.name);
    if (outcome.delayMs !== undefined) await pause(outcome.delayMs, signal, this.name);
    return outcome;
  }

  async #unary(
    operation: FakeCall["operation"],
    request: FakeCall["request"],
    signal: AbortSignal,
    context: CallContext | undefined,
  ): Promise<GenerationResult> {
    const outcome = await this.#begin(operation, request, signal, context);
    if (outcome.error !== undefined) throw outcome.error;
    const text = outcome.text ?? "";
    return {
      id: `${this.name}-1`,
      text,
      finishReason: "stop",
      usage: usageOf(text.split(" ").length),
      model: request.model,
    };
  }

  async *#stream(
    operation: FakeCall["operation"],
    request: FakeCall["request"],
    signal: AbortSignal,
    context: CallContext | undefined,
  ): AsyncGenerator<StreamPart> {
    const outcome = await this.#begin(operation, request, signal, context);
    const words = (outcome.text ?? "").split(/(?=\s)/).filter((word) => word !== "");
    if (outcome.error !== undefined) {
      for (const word of words.slice(0, outcome.errorAfterChunks ?? 0)) yield { type: "delta", text: word };
      throw outcome.error;
    }
    for (const word of words) yield { type: "delta", text: word };
    yield {
      type: "finish",
      id: `${this.name}-1`,
      finishReason: "stop",
      usage: usageOf(words.length),
      model: request.model,
    };
  }
}

/** A provider whose streams run `body` with the signal they were given; its other methods are unused. */
export function streamingWith(name: string, body: (signal: AbortSignal) => AsyncGenerator<StreamPart>): Provider {
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    name,
    type: "openai",
    chat: unused,
    complete: unused,
    embed: unused,
    streamChat: (_request, signal) => body(signal),
    streamComplete: (_request, signal) => body(signal),
  };
}
