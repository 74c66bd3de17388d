import { parseAnthropicMessages } from "./anthropic-request.js";
import { echoAnswer, type EchoAnswer } from "./echo-answer.js";
import { modelLists } from "./model-lists.js";
import type { OperationContext } from "./operation-context.js";
import { requestIds } from "./request-ids.js";
import { writeSseStream, type StreamScript } from "./sse-writer.js";

type StopReason = "end_turn" | "max_tokens" | "stop_sequence" | "refusal";

interface MessageAnswer {
  id: string;
  model: string;
  echo: EchoAnswer;
  stopReason: StopReason;
  /** The prompt's tokens, cache reads and writes included. */
  inputTokens: number;
  /** Prompt tokens reported as read from the cache. */
  cacheReadTokens: number;
  /** Prompt tokens reported as written to the cache. */
  cacheWriteTokens: number;
}

const quote = JSON.stringify;

/**
 * Anthropic's Messages API: `POST /v1/messages` answered with `"Echo: ..."` as a message or as the recorded
 * event sequence, and `GET /v1/models`. A fault's `cachedTokens` and `cacheWriteTokens` show in the usage as
 * cache reads and writes.
 */
export const anthropicApi = {
  messages(context: OperationContext): void {
    const { exchange, fault } = context;
    const parsed = parseAnthropicMessages(exchange.request.body);
    if (!parsed.ok) {
      exchange.sendProblem(parsed.problem);
      return;
    }
    const request = parsed.value;
    if (request.promptTokens > context.contextWindow) {
      exchange.sendProblem({
        kind: "context_length",
        promptTokens: request.promptTokens,
        limit: context.contextWindow,
      });
      return;
    }
    const echo = echoAnswer(request.source, request.maxTokens, request.stopSequences, request.prefill);
    if (!exchange.admit(request.promptTokens + echo.completionTokens)) return;
    const cacheReadTokens = Math.min(Math.floor(fault.cachedTokens ?? 0), request.promptTokens);
    const answer: MessageAnswer = {
      id: requestIds.message(),
      model: exchange.request.model,
      echo,
      stopReason: stopReason(echo, fault.errorCode === "content_filter"),
      inputTokens: request.promptTokens,
      cacheReadTokens,
      cacheWriteTokens: Math.min(Math.floor(fault.cacheWriteTokens ?? 0), request.promptTokens - cacheReadTokens),
    };
    if (request.stream) writeSseStream(exchange, messageStreamScript(answer), fault, context.chunkDelayMs);
    else exchange.sendJson(200, messageBody(answer));
  },
  models(context: OperationContext): void {
    if (context.exchange.admit(0)) context.exchange.sendJson(200, modelLists.anthropic(context.contextWindow));
  },
};

function stopReason(echo: EchoAnswer, filtered: boolean): StopReason {
  if (filtered) return "refusal";
  if (echo.finish === "length") return "max_tokens";
  return echo.stopSequence === undefined ? "end_turn" : "stop_sequence";
}

/** Anthropic's input token counts: `input_tokens` excludes the tokens read from and written to the cache. */
function inputUsage(answer: MessageAnswer): {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
} {
  return {
    input_tokens: answer.inputTokens - answer.cacheReadTokens - answer.cacheWriteTokens,
    cache_creation_input_tokens: answer.cacheWriteTokens,
    cache_read_input_tokens: answer.cacheReadTokens,
  };
}

function usage(answer: MessageAnswer, outputTokens: number): object {
  return {
    ...inputUsage(answer),
    cache_creation: { ephemeral_5m_input_tokens: answer.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

function messageBody(answer: MessageAnswer): object {
  return {
    model: answer.model,
    id: answer.id,
    type: "message",
    role: "assistant",
    content: [{ type: "text", text: answer.echo.text }],
    stop_reason: answer.stopReason,
    stop_sequence: answer.stopReason === "stop_sequence" ? (answer.echo.stopSequence ?? null) : null,
    usage: usage(answer, answer.echo.completionTokens),
  };
}

function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * The recorded event sequence: message_start (input_tokens, output_tokens 1), content_block_start, ping,
 * one content_block_delta text_delta per token, content_block_stop, message_delta (stop_reason,
 * stop_sequence, usage.output_tokens), message_stop.
 */
function messageStreamScript(answer: MessageAnswer): StreamScript {
  const start = {
    type: "message_start",
    message: {
      model: answer.model,
      id: answer.id,
      type: "message",
      role: "assistant",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usage(answer, 1),
    },
  };
  const head =
    frame("message_start", quote(start)) +
    frame("content_block_start", '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}') +
    frame("ping", '{"type": "ping"}');
  const content = answer.echo.pieces.map((piece) =>
    frame(
      "content_block_delta",
      `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${quote(piece)}}}`,
    ),
  );
  const delta = {
    type: "message_delta",
    delta: {
      stop_reason: answer.stopReason,
      stop_sequence: answer.stopReason === "stop_sequence" ? (answer.echo.stopSequence ?? null) : null,
    },
    usage: { ...inputUsage(answer), output_tokens: answer.echo.completionTokens },
  };
  const tail =
    frame("content_block_stop", '{"type":"content_block_stop","index":0}') +
    frame("message_delta", quote(delta)) +
    frame("message_stop", '{"type":"message_stop"}');
  return { head, content, tail };
}
