import { chatTokensPerConversation, chatTokensPerMessage, countTokens } from "./emulator-tokens.js";
import { isRecord } from "./is-record.js";
import type { ParsedRequest } from "./openai-request.js";

/** A Messages API request reduced to what the emulator's answer depends on. */
export interface MessagesRequest {
  promptTokens: number;
  /** The last user message's text. */
  source: string;
  /**
   * The text of a final assistant message (assistant prefill), which the answer continues; "" when the
   * conversation ends with a user message.
   */
  prefill: string;
  maxTokens: number;
  stopSequences: string[];
  stream: boolean;
}

function invalid(message: string): { ok: false; problem: { kind: "invalid_request"; message: string } } {
  return { ok: false, problem: { kind: "invalid_request", message } };
}

/**
 * Validates a Messages API request as Anthropic does (required `model` and `max_tokens`, roles user and
 * assistant only, starting with user and alternating, a final assistant message not ending in whitespace)
 * and counts its prompt with the chat rule: for each message countTokens(text) + 3, a non-empty system
 * prompt counting as one more message, plus 3. A final assistant message is the prefill the answer continues;
 * it counts as a prompt message.
 */
export function parseAnthropicMessages(body: unknown): ParsedRequest<MessagesRequest> {
  if (!isRecord(body)) return invalid("Input should be a valid dictionary");
  if (typeof body.model !== "string" || body.model === "") return invalid("model: Field required");
  const maxTokens = body.max_tokens;
  if (maxTokens === undefined || maxTokens === null) return invalid("max_tokens: Field required");
  if (typeof maxTokens !== "number" || !Number.isInteger(maxTokens))
    return invalid("max_tokens: Input should be a valid integer");
  if (maxTokens < 1) return invalid("max_tokens: Input should be greater than or equal to 1");
  const messages = body.messages;
  if (messages === undefined || messages === null) return invalid("messages: Field required");
  if (!Array.isArray(messages)) return invalid("messages: Input should be a valid list");
  if (messages.length === 0) return invalid("messages: at least one message is required");

  let promptTokens = chatTokensPerConversation;
  let source = "";
  let previousRole = "";
  let lastText = "";
  for (let index = 0; index < messages.length; index++) {
    const message: unknown = messages[index];
    if (!isRecord(message)) return invalid(`messages.${index}: Input should be a valid dictionary`);
    const role = message.role;
    if (role !== "user" && role !== "assistant")
      return invalid(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    if (index === 0 && role !== "user") return invalid('messages: first message must use the "user" role');
    if (role === previousRole) {
      return invalid(
        `messages: roles must alternate between "user" and "assistant", but found multiple "${role}" roles in a row`,
      );
    }
    previousRole = role;
    const text = blocksText(message.content);
    if (text === undefined) return invalid(`messages.${index}.content: Input should be a valid list`);
    promptTokens += countTokens(text) + chatTokensPerMessage;
    if (role === "user") source = text;
    lastText = text;
  }
  const prefill = previousRole === "assistant" ? lastText : "";
  if (/\s$/.test(prefill)) return invalid("messages: final assistant content cannot end with trailing whitespace");

  const system = body.system === undefined || body.system === null ? "" : blocksText(body.system);
  if (system === undefined) return invalid("system: Input should be a valid list");
  if (system !== "") promptTokens += countTokens(system) + chatTokensPerMessage;

  const stops = body.stop_sequences ?? [];
  if (!Array.isArray(stops) || !stops.every((stop): stop is string => typeof stop === "string")) {
    return invalid("stop_sequences: Input should be a valid list");
  }
  return {
    ok: true,
    value: { promptTokens, source, prefill, maxTokens, stopSequences: stops, stream: body.stream === true },
  };
}

/** Text of a string or of content blocks (text blocks joined by "\n"; other blocks carry no text). */
function blocksText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const block of content) {
    if (!isRecord(block)) return undefined;
    if (block.type === "text") {
      if (typeof block.text !== "string") return undefined;
      texts.push(block.text);
    }
  }
  return texts.join("\n");
}
