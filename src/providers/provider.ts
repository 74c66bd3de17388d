import type { ProviderType } from "../config/provider-type.js";
import type { CallContext } from "./call-context.js";
import type { UpstreamRateLimit } from "./upstream-rate-limit.js";

/** Author of a chat message, normalized across providers. */
export type Role = "system" | "user" | "assistant" | "tool";

/** One chat message. Text only today; parts and tool calls will be added as optional fields. */
export interface ChatMessage {
  role: Role;
  content: string;
  name?: string;
}

/**
 * Why generation stopped: one closed set for every provider, so that callers never parse vendor strings.
 * `other` keeps an unmapped vendor reason visible without widening the set.
 */
export type FinishReason = "stop" | "length" | "content_filter" | "tool_calls" | "other";

/** Sampling options shared by chat and completion requests. */
export interface GenerationOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  user?: string;
}

/** A chat request addressed to one provider; `model` is the provider's model (Azure: the deployment). */
export interface ChatRequest extends GenerationOptions {
  model: string;
  messages: ChatMessage[];
}

/** A text-completion request addressed to one provider. */
export interface CompletionRequest extends GenerationOptions {
  model: string;
  prompt: string;
}

/** An embedding request addressed to one provider; one vector per input, in order. */
export interface EmbedRequest {
  model: string;
  inputs: string[];
  dimensions?: number;
  user?: string;
}

/**
 * Token usage as the provider reported it. `promptTokens` counts every input token, cached ones
 * included, whatever the vendor's own convention (Anthropic reports cache reads and writes apart).
 */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  /** Input tokens served from the provider's prompt cache (billed at the cached-input price). */
  cachedPromptTokens: number;
  /** Input tokens written to the provider's prompt cache (Anthropic's cache_creation_input_tokens). */
  cacheWriteTokens: number;
  /**
   * Set when the provider reported no usage at all (some OpenAI-compatible servers): the zeros are unknown,
   * not free, and the ledger bills such an answer as unknown (or, for a stream, counts its text).
   */
  missing?: true;
}

/** What a provider answered to a unary chat or completion call. */
export interface GenerationResult {
  /** The provider's completion id. */
  id: string;
  text: string;
  finishReason: FinishReason;
  usage: TokenUsage;
  /** The model that answered, as the provider named it. */
  model: string;
  /** The provider's request id (x-request-id, request-id) when it sent one. */
  providerRequestId?: string;
  /** The provider's rate-limit state from the answer's headers (a stream's finish part carries it too). */
  rateLimit?: UpstreamRateLimit;
}

/**
 * One part of a streamed answer: text deltas, then exactly one `finish` part. An adapter whose upstream
 * stream ends without what a finish needs throws a ProviderError instead: a stream never ends silently.
 */
export type StreamPart = { type: "delta"; text: string } | ({ type: "finish" } & Omit<GenerationResult, "text">);

/** What a provider answered to an embedding call. */
export interface EmbedResult {
  embeddings: number[][];
  usage: TokenUsage;
  model: string;
  providerRequestId?: string;
  /** The provider's rate-limit state from the answer's headers. */
  rateLimit?: UpstreamRateLimit;
}

/**
 * The one interface every provider adapter implements and every pipeline policy wraps (a policy takes a
 * Provider and returns one). Each call takes the caller's AbortSignal: a client's cancel or deadline aborts
 * the upstream request. The optional CallContext carries what policies need (deadline, client, trace);
 * adapters ignore it. Every failure is thrown as a ProviderError.
 */
export interface Provider {
  /** The configured provider name (for example `azure-east`). */
  readonly name: string;
  readonly type: ProviderType;
  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult>;
  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart>;
  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult>;
  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart>;
  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult>;
}
