import type { CallContext, Operation } from "../providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../providers/provider.js";

/** One provider call as a policy sees it: which operation, on which request, streamed or not. */
export type PolicyCall =
  | { operation: Extract<Operation, "chat">; request: ChatRequest; stream: boolean }
  | { operation: Extract<Operation, "text_completion">; request: CompletionRequest; stream: boolean }
  | { operation: Extract<Operation, "embeddings">; request: EmbedRequest; stream: false };

/** Calls the inner provider, with the signal (and context) the policy passes on. */
export type Invoke<T> = (signal: AbortSignal, context: CallContext | undefined) => T;

/**
 * What a policy does around a call: one hook for answers that arrive whole, one for streams. Everything else
 * (the five Provider methods, name and type) is the same for every policy.
 */
export interface PolicyHooks {
  unary<R extends GenerationResult | EmbedResult>(
    call: PolicyCall,
    signal: AbortSignal,
    context: CallContext | undefined,
    invoke: Invoke<Promise<R>>,
  ): Promise<R>;
  stream(
    call: PolicyCall,
    signal: AbortSignal,
    context: CallContext | undefined,
    open: Invoke<AsyncIterable<StreamPart>>,
  ): AsyncIterable<StreamPart>;
}

/** A Provider that runs every call of `inner` through a policy's two hooks. */
export function providerPolicy(inner: Provider, hooks: PolicyHooks): Provider {
  return {
    name: inner.name,
    type: inner.type,
    chat: (request, signal, context) =>
      hooks.unary({ operation: "chat", request, stream: false }, signal, context, (s, c) => inner.chat(request, s, c)),
    streamChat: (request, signal, context) =>
      hooks.stream({ operation: "chat", request, stream: true }, signal, context, (s, c) =>
        inner.streamChat(request, s, c),
      ),
    complete: (request, signal, context) =>
      hooks.unary({ operation: "text_completion", request, stream: false }, signal, context, (s, c) =>
        inner.complete(request, s, c),
      ),
    streamComplete: (request, signal, context) =>
      hooks.stream({ operation: "text_completion", request, stream: true }, signal, context, (s, c) =>
        inner.streamComplete(request, s, c),
      ),
    embed: (request, signal, context) =>
      hooks.unary({ operation: "embeddings", request, stream: false }, signal, context, (s, c) =>
        inner.embed(request, s, c),
      ),
  };
}
