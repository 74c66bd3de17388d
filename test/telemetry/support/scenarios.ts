import { Code } from "@connectrpc/connect";
import type { AttemptRecord } from "../../../src/providers/call-context.js";
import type { TokenUsage } from "../../../src/providers/provider.js";
import type { Scenario } from "./traced-service.js";

/** The gateway's provider key: appears in a provider's auth error message, must never be exported. */
export const providerKey = "sk-provider-secret-0123456789abcdef";
/** A client's credential: sent as request headers and metadata, must never be exported. */
export const clientKey = "ck-client-secret-9876543210";

export const usage = (prompt: number, completion: number, cached = 0): TokenUsage => ({
  promptTokens: prompt,
  completionTokens: completion,
  totalTokens: prompt + completion,
  cachedPromptTokens: cached,
  cacheWriteTokens: 0,
});

const attempt = (init: Partial<AttemptRecord> & Pick<AttemptRecord, "provider" | "providerType" | "model" | "startedAt" | "endedAt">): AttemptRecord => ({
  type: "attempt",
  operation: "chat",
  stream: false,
  chunks: 0,
  ...init,
});

/** Requests by model name: what the pipeline did for each, as the test service replays it. */
export const scenarios: Record<string, Scenario> = {
  /** One successful unary call with cached prompt tokens. */
  "gpt-4o": {
    durationMs: 320,
    events: (t) => [
      attempt({ provider: "openai", providerType: "openai", model: "gpt-4o", startedAt: t + 5, endedAt: t + 305, maxTokens: 64, responseModel: "gpt-4o-2024-08-06", usage: usage(120, 30, 100), finishReason: "stop" }),
    ],
    servedBy: { provider: "openai", providerType: "openai", model: "gpt-4o" },
    usage: usage(120, 30, 100),
    costMicros: 425n,
    output: ["Hello there"],
  },
  /** A stream served at once by Anthropic. */
  "claude-stream": {
    durationMs: 700,
    firstChunkAfterMs: 150,
    events: (t) => [
      attempt({ provider: "claude", providerType: "anthropic", model: "claude-sonnet-4-20250514", stream: true, startedAt: t + 10, endedAt: t + 690, firstChunkAt: t + 140, chunks: 4, responseModel: "claude-sonnet-4-20250514", usage: usage(11, 6), finishReason: "length" }),
    ],
    servedBy: { provider: "claude", providerType: "anthropic", model: "claude-sonnet-4-20250514" },
    usage: usage(11, 6),
    costMicros: 123n,
    output: ["one ", "two ", "three ", "four"],
  },
  /**
   * A stream that waited in a queue, was rate-limited on OpenAI, retried, failed again, fell back to
   * Azure and was served there.
   */
  "flaky-stream": {
    durationMs: 1000,
    firstChunkAfterMs: 620,
    events: (t) => [
      { type: "queued", limiter: "openai-rpm", waitedMs: 40 },
      attempt({ provider: "openai", providerType: "openai", model: "gpt-4o", stream: true, startedAt: t + 50, endedAt: t + 150, error: { kind: "rate_limited", message: "Rate limit reached for gpt-4o" } }),
      { type: "retry", provider: "openai", model: "gpt-4o", attempt: 1, delayMs: 100, reason: "rate_limited" },
      attempt({ provider: "openai", providerType: "openai", model: "gpt-4o", stream: true, startedAt: t + 250, endedAt: t + 400, error: { kind: "unavailable", message: "502 Bad Gateway" } }),
      { type: "fallback", fromProvider: "openai", fromModel: "gpt-4o", toProvider: "azure-east", toModel: "gpt-4o-deployment", reason: "unavailable" },
      attempt({ provider: "azure-east", providerType: "azure", model: "gpt-4o-deployment", stream: true, startedAt: t + 410, endedAt: t + 990, firstChunkAt: t + 600, chunks: 3, maxTokens: 256, responseModel: "gpt-4o-2024-11-20", usage: usage(20, 9), finishReason: "stop" }),
    ],
    servedBy: { provider: "azure-east", providerType: "azure", model: "gpt-4o-deployment" },
    usage: usage(20, 9),
    costMicros: 140n,
    output: ["a ", "b ", "c"],
  },
  /** The provider rejected the gateway's key, echoing it: the request fails with INTERNAL. */
  "broken-key": {
    durationMs: 90,
    events: (t) => [
      attempt({ provider: "vllm", providerType: "openai-compatible", model: "llama", startedAt: t + 5, endedAt: t + 80, error: { kind: "auth", message: `Incorrect API key provided: ${providerKey}` } }),
    ],
    output: [],
    failure: { code: Code.Internal, kind: "auth" },
  },
  /** The provider is down: UNAVAILABLE. */
  "down": {
    durationMs: 60,
    events: (t) => [
      attempt({ provider: "openai", providerType: "openai", model: "gpt-4o", startedAt: t + 5, endedAt: t + 55, error: { kind: "unavailable", message: `upstream said: Bearer ${clientKey}` } }),
    ],
    output: [],
    failure: { code: Code.Unavailable, kind: "unavailable" },
  },
};
