import { azureContentFilter } from "./azure-content-filter.js";

/** Everything an OpenAI or Azure generation answer is rendered from. */
export interface GenerationAnswer {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  text: string;
  pieces: readonly string[];
  finishReason: "stop" | "length" | "content_filter";
  promptTokens: number;
  completionTokens: number;
  /** Chat: prompt tokens reported as read from the prompt cache (part of `promptTokens`). */
  cachedTokens: number;
  /** Azure: add prompt_filter_results and content_filter_results. */
  azure: boolean;
  /** Streams: `stream_options.include_usage`. */
  includeUsage: boolean;
}

/** Chat usage with the detail objects OpenAI sends today; `cachedTokens` of the prompt tokens came from the cache. */
function chatUsage(promptTokens: number, completionTokens: number, cachedTokens = 0): object {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/** Legacy completion usage. */
function completionUsage(promptTokens: number, completionTokens: number): object {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** A `chat.completion` body, as OpenAI (or, with `azure`, Azure OpenAI) sends it. */
function chatCompletionBody(answer: GenerationAnswer): object {
  const choice: Record<string, unknown> = {
    index: 0,
    message: { role: "assistant", content: answer.text, refusal: null, annotations: [] },
    logprobs: null,
    finish_reason: answer.finishReason,
  };
  if (answer.azure)
    choice.content_filter_results = azureContentFilter.choiceResults(answer.finishReason === "content_filter");
  const body: Record<string, unknown> = {
    id: answer.id,
    object: "chat.completion",
    created: answer.created,
    model: answer.model,
    choices: [choice],
    usage: chatUsage(answer.promptTokens, answer.completionTokens, answer.cachedTokens),
    service_tier: "default",
    system_fingerprint: "fp_emulator",
  };
  if (answer.azure) body.prompt_filter_results = azureContentFilter.promptResults;
  return body;
}

/** A legacy `text_completion` body. */
function textCompletionBody(answer: GenerationAnswer): object {
  const choice: Record<string, unknown> = {
    text: answer.text,
    index: 0,
    logprobs: null,
    finish_reason: answer.finishReason,
  };
  if (answer.azure)
    choice.content_filter_results = azureContentFilter.choiceResults(answer.finishReason === "content_filter");
  const body: Record<string, unknown> = {
    id: answer.id,
    object: "text_completion",
    created: answer.created,
    model: answer.model,
    choices: [choice],
    usage: completionUsage(answer.promptTokens, answer.completionTokens),
  };
  if (answer.azure) body.prompt_filter_results = azureContentFilter.promptResults;
  return body;
}

/** The JSON bodies of OpenAI's (and Azure's) generation answers, and their usage objects. */
export const openAiBodies = {
  chatCompletion: chatCompletionBody,
  textCompletion: textCompletionBody,
  chatUsage,
  completionUsage,
};
