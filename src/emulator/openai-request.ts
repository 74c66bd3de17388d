import { chatTokensPerConversation, chatTokensPerMessage, countTokens } from "./emulator-tokens.js";
import type { Problem } from "./error-bodies.js";
import { isRecord } from "./is-record.js";

/** A chat or completion request reduced to what the emulator's answer depends on. */
export interface GenerationRequest {
  promptTokens: number;
  /** The text the answer echoes: the last user message, or the prompt. */
  source: string;
  maxTokens: number | undefined;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

/** A parsed request, or the 400 it deserves. */
export type ParsedRequest<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const roles: ReadonlySet<string> = new Set(["system", "developer", "user", "assistant", "tool", "function"]);

function invalid(message: string, param: string | null, code: string | null = null): { ok: false; problem: Problem } {
  return { ok: false, problem: { kind: "invalid_request", message, param, code } };
}

/**
 * Validates an OpenAI chat request as the API does (the checks the emulator can fail on) and counts its
 * prompt: for each message countTokens(text) + 3, plus 3. Array content counts its text parts joined by "\n".
 */
function parseChat(body: unknown, requireModel: boolean): ParsedRequest<GenerationRequest> {
  if (!isRecord(body)) return invalid("Invalid type for 'body': expected an object.", null, "invalid_type");
  if (requireModel && (typeof body.model !== "string" || body.model === ""))
    return invalid("you must provide a model parameter", null);
  const messages = body.messages;
  if (messages === undefined || messages === null) {
    return invalid("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  }
  if (!Array.isArray(messages))
    return invalid("Invalid type for 'messages': expected an array.", "messages", "invalid_type");
  if (messages.length === 0) return invalid("[] is too short - 'messages'", "messages", "empty_array");
  let promptTokens = chatTokensPerConversation;
  let source = "";
  for (let index = 0; index < messages.length; index++) {
    const message: unknown = messages[index];
    if (!isRecord(message))
      return invalid(
        `Invalid type for 'messages[${index}]': expected an object.`,
        `messages[${index}]`,
        "invalid_type",
      );
    if (typeof message.role !== "string" || !roles.has(message.role)) {
      return invalid(
        `Invalid value: '${String(message.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${index}].role`,
        "invalid_value",
      );
    }
    const text = contentText(message.content);
    if (text === undefined) {
      return invalid(
        `Invalid type for 'messages[${index}].content': expected one of a string or array of objects.`,
        `messages[${index}].content`,
        "invalid_type",
      );
    }
    promptTokens += countTokens(text) + chatTokensPerMessage;
    if (message.role === "user") source = text;
  }
  return withSampling(body, promptTokens, source);
}

/** Validates a legacy completion request (one prompt: a string or an array of one string); prompt tokens = countTokens(prompt). */
function parseCompletion(body: unknown, requireModel: boolean): ParsedRequest<GenerationRequest> {
  if (!isRecord(body)) return invalid("Invalid type for 'body': expected an object.", null, "invalid_type");
  if (requireModel && (typeof body.model !== "string" || body.model === ""))
    return invalid("you must provide a model parameter", null);
  const prompt = Array.isArray(body.prompt) && body.prompt.length === 1 ? body.prompt[0] : body.prompt;
  if (typeof prompt !== "string") {
    return invalid(
      "Invalid type for 'prompt': the emulator expects a string or an array of one string.",
      "prompt",
      "invalid_type",
    );
  }
  return withSampling(body, countTokens(prompt), prompt);
}

function withSampling(
  body: Record<string, unknown>,
  promptTokens: number,
  source: string,
): ParsedRequest<GenerationRequest> {
  const limitName =
    body.max_completion_tokens !== undefined && body.max_completion_tokens !== null
      ? "max_completion_tokens"
      : "max_tokens";
  const limit = body[limitName];
  let maxTokens: number | undefined;
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== "number" || !Number.isInteger(limit))
      return invalid(`Invalid type for '${limitName}': expected an integer.`, limitName, "invalid_type");
    if (limit < 1) {
      return invalid(
        `Invalid '${limitName}': integer below minimum value. Expected a value >= 1, but got ${limit} instead.`,
        limitName,
        "integer_below_min_value",
      );
    }
    maxTokens = limit;
  }
  const stop = body.stop;
  let stops: string[] = [];
  if (typeof stop === "string") stops = [stop];
  else if (Array.isArray(stop) && stop.every((item): item is string => typeof item === "string")) stops = stop;
  else if (stop !== undefined && stop !== null)
    return invalid("Invalid type for 'stop': expected a string or an array of strings.", "stop", "invalid_type");
  if (stops.length > 4)
    return invalid(
      `Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length ${stops.length} instead.`,
      "stop",
      "array_above_max_length",
    );
  const stream = body.stream === true;
  if (body.stream_options !== undefined && body.stream_options !== null && !stream) {
    return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
  }
  const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
  return { ok: true, value: { promptTokens, source, maxTokens, stop: stops, stream, includeUsage } };
}

/** A message's text: a string, text parts joined by "\n", or "" for null; undefined for anything else. */
function contentText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (!Array.isArray(content)) return undefined;
  const texts: string[] = [];
  for (const part of content) {
    if (!isRecord(part)) return undefined;
    if (part.type === "text" && typeof part.text === "string") texts.push(part.text);
  }
  return texts.join("\n");
}

/** Validation and prompt counting of OpenAI's (and Azure's) chat and legacy completion requests. */
export const openAiRequest = { parseChat, parseCompletion };
