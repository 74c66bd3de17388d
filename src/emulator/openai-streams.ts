import { azureContentFilter } from "./azure-content-filter.js";
import { openAiBodies, type GenerationAnswer } from "./openai-bodies.js";
import type { StreamScript } from "./sse-writer.js";

const quote = JSON.stringify;
const done = "data: [DONE]\n\n";
const azurePromptFilterFrame = `data: ${quote({
  choices: [],
  created: 0,
  id: "",
  model: "",
  object: "",
  prompt_filter_results: azureContentFilter.promptResults,
})}\n\n`;

function filterField(answer: GenerationAnswer, resultsJson: string): string {
  return answer.azure ? `,"content_filter_results":${resultsJson}` : "";
}

function finishFilterField(answer: GenerationAnswer): string {
  return filterField(
    answer,
    answer.finishReason === "content_filter" ? azureContentFilter.filteredChunkResultsJson : "{}",
  );
}

/**
 * A chat stream as recorded: (Azure: a prompt_filter_results chunk,) a role chunk with content "", one
 * chunk per token, a chunk with finish_reason, with include_usage a chunk with `"choices": []` and usage
 * (and `"usage": null` on every other chunk), then `data: [DONE]`. Chunks share a pre-rendered prefix, so
 * each costs one string concatenation and one JSON string escape.
 */
function chatStreamScript(answer: GenerationAnswer): StreamScript {
  const prefix = `data: {"id":${quote(answer.id)},"object":"chat.completion.chunk","created":${answer.created},"model":${quote(answer.model)},"service_tier":"default","system_fingerprint":"fp_emulator","choices":[`;
  const suffix = `]${answer.includeUsage ? ',"usage":null' : ""}}\n\n`;
  const contentFilter = filterField(answer, azureContentFilter.chunkResultsJson);
  const head =
    (answer.azure ? azurePromptFilterFrame : "") +
    `${prefix}{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null${filterField(answer, "{}")}}${suffix}`;
  const content = answer.pieces.map(
    (piece) =>
      `${prefix}{"index":0,"delta":{"content":${quote(piece)}},"logprobs":null,"finish_reason":null${contentFilter}}${suffix}`,
  );
  let tail = `${prefix}{"index":0,"delta":{},"logprobs":null,"finish_reason":${quote(answer.finishReason)}${finishFilterField(answer)}}${suffix}`;
  if (answer.includeUsage)
    tail += `${prefix}],"usage":${quote(openAiBodies.chatUsage(answer.promptTokens, answer.completionTokens, answer.cachedTokens))}}\n\n`;
  return { head, content, tail: tail + done };
}

/**
 * A legacy completion stream as recorded: one `text_completion` chunk per token, a chunk with text "" and
 * the finish_reason, with include_usage a usage chunk with `"choices": []`, then `data: [DONE]`.
 */
function completionStreamScript(answer: GenerationAnswer): StreamScript {
  const identity = `"id":${quote(answer.id)},"object":"text_completion","created":${answer.created}`;
  const prefix = `data: {${identity},"choices":[`;
  const suffix = `],"model":${quote(answer.model)}${answer.includeUsage ? ',"usage":null' : ""}}\n\n`;
  const contentFilter = filterField(answer, azureContentFilter.chunkResultsJson);
  const content = answer.pieces.map(
    (piece) =>
      `${prefix}{"text":${quote(piece)},"index":0,"logprobs":null,"finish_reason":null${contentFilter}}${suffix}`,
  );
  let tail = `${prefix}{"text":"","index":0,"logprobs":null,"finish_reason":${quote(answer.finishReason)}${finishFilterField(answer)}}${suffix}`;
  if (answer.includeUsage) {
    tail += `data: {${identity},"model":${quote(answer.model)},"usage":${quote(openAiBodies.completionUsage(answer.promptTokens, answer.completionTokens))},"choices":[]}\n\n`;
  }
  return { head: answer.azure ? azurePromptFilterFrame : "", content, tail: tail + done };
}

/** The SSE scripts of OpenAI's (and Azure's) chat and legacy completion streams. */
export const openAiStreams = { chat: chatStreamScript, completion: completionStreamScript };
