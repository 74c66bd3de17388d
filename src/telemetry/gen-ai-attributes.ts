/**
 * Attribute names of the OpenTelemetry GenAI semantic conventions (development status; the names of
 * `@opentelemetry/semantic-conventions/incubating` 1.45, which marks them as moved to the GenAI conventions
 * repository). Kept here as plain strings so a rename upstream is one edit, not a broken import.
 */
export const genAiAttributes = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  requestMaxTokens: "gen_ai.request.max_tokens",
  requestStream: "gen_ai.request.stream",
  responseModel: "gen_ai.response.model",
  responseFinishReasons: "gen_ai.response.finish_reasons",
  /** Seconds from the request to the first streamed chunk. */
  responseTimeToFirstChunk: "gen_ai.response.time_to_first_chunk",
  usageInputTokens: "gen_ai.usage.input_tokens",
  usageOutputTokens: "gen_ai.usage.output_tokens",
  usageCacheReadInputTokens: "gen_ai.usage.cache_read.input_tokens",
  usageCacheCreationInputTokens: "gen_ai.usage.cache_creation.input_tokens",
  tokenType: "gen_ai.token.type",
  /** Opt-in content: the chat history sent, as JSON. */
  inputMessages: "gen_ai.input.messages",
  /** Opt-in content: the answer, as JSON. */
  outputMessages: "gen_ai.output.messages",
} as const;
