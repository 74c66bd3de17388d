import type { TokenUsage } from "../provider.js";

/** Anthropic's token counts as they appear in a message, in message_start or in message_delta. */
export interface AnthropicUsageCounts {
  input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens?: number | null;
}

/**
 * Converts Anthropic usage to the domain convention. Anthropic's `input_tokens` excludes cache reads and
 * writes; the domain's `promptTokens` counts every input token, so the three are added, and the cached
 * parts are kept apart for pricing.
 */
export function anthropicUsage(counts: AnthropicUsageCounts): TokenUsage {
  const cachedPromptTokens = counts.cache_read_input_tokens ?? 0;
  const cacheWriteTokens = counts.cache_creation_input_tokens ?? 0;
  const promptTokens = (counts.input_tokens ?? 0) + cachedPromptTokens + cacheWriteTokens;
  const completionTokens = counts.output_tokens ?? 0;
  return {
    promptTokens,
    completionTokens,
    totalTokens: promptTokens + completionTokens,
    cachedPromptTokens,
    cacheWriteTokens,
  };
}
