import { echoAnswer } from "./echo-answer.js";
import { openAiBodies, type GenerationAnswer } from "./openai-bodies.js";
import { openAiRequest, type GenerationRequest, type ParsedRequest } from "./openai-request.js";
import { openAiStreams } from "./openai-streams.js";
import type { OperationContext } from "./operation-context.js";
import { requestIds } from "./request-ids.js";
import { writeSseStream } from "./sse-writer.js";

/**
 * OpenAI's (and Azure OpenAI's) chat and legacy completion operations: validate, refuse prompts over the
 * context window, charge the rate limiter, then answer `"Echo: ..."` as JSON or as an SSE stream. Azure
 * answers name the deployment as their model and carry content-filter annotations. A fault's `cachedTokens`
 * shows in chat usage as cached prompt tokens.
 */
export const openAiApi = {
  chat(context: OperationContext): void {
    const azure = context.exchange.request.api === "azure";
    generate(context, openAiRequest.parseChat(context.exchange.request.body, !azure), "chat");
  },
  completion(context: OperationContext): void {
    const azure = context.exchange.request.api === "azure";
    generate(context, openAiRequest.parseCompletion(context.exchange.request.body, !azure), "completion");
  },
};

function generate(
  context: OperationContext,
  parsed: ParsedRequest<GenerationRequest>,
  kind: "chat" | "completion",
): void {
  const { exchange, fault } = context;
  if (!parsed.ok) {
    exchange.sendProblem(parsed.problem);
    return;
  }
  const request = parsed.value;
  if (request.promptTokens > context.contextWindow) {
    exchange.sendProblem({ kind: "context_length", promptTokens: request.promptTokens, limit: context.contextWindow });
    return;
  }
  const echo = echoAnswer(request.source, request.maxTokens, request.stop);
  if (!exchange.admit(request.promptTokens + echo.completionTokens)) return;
  const azure = exchange.request.api === "azure";
  const answer: GenerationAnswer = {
    id: kind === "chat" ? requestIds.chatCompletion() : requestIds.completion(),
    created: Math.floor(Date.now() / 1000),
    model: azure ? exchange.deployment : exchange.request.model,
    text: echo.text,
    pieces: echo.pieces,
    finishReason: fault.errorCode === "content_filter" ? "content_filter" : echo.finish,
    promptTokens: request.promptTokens,
    completionTokens: echo.completionTokens,
    cachedTokens: kind === "chat" ? Math.min(Math.floor(fault.cachedTokens ?? 0), request.promptTokens) : 0,
    azure,
    includeUsage: request.includeUsage,
  };
  if (request.stream) {
    const script = kind === "chat" ? openAiStreams.chat(answer) : openAiStreams.completion(answer);
    writeSseStream(exchange, script, fault, context.chunkDelayMs);
  } else {
    exchange.sendJson(200, kind === "chat" ? openAiBodies.chatCompletion(answer) : openAiBodies.textCompletion(answer));
  }
}
