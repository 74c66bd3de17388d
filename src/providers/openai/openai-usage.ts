import type { TokenUsage } from "../provider.js";

/** The usage fields the OpenAI family reports on chat, completion and embedding answers. */
export interface OpenAIWireUsage {
  prompt_tokens: number;
  completion_tokens?: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

/**
 * Domain usage from an OpenAI-style `usage` object; zero usage marked `missing` when the answer had
 * none (some OpenAI-compatible servers omit it). OpenAI's prompt_tokens already includes cached tokens, and the
 * family has no cache writes.
 */
export function openAIUsage(usage: OpenAIWireUsage | null | undefined): TokenUsage {
  if (usage === null || usage === undefined) {
    return {
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      cachedPromptTokens: 0,
      cacheWriteTokens: 0,
      missing: true,
    };
  }
  const promptTokens = usage?.prompt_tokens ?? 0;
  const completionTokens = usage?.completion_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: usage?.total_tokens ?? promptTokens + completionTokens,
    cachedPromptTokens: usage?.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
  };
}
