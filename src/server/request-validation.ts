import { Code, ConnectError } from "@connectrpc/connect";
import type { GenerationOptions as WireOptions, Message as WireMessage } from "../../gen/llm/v1/llm_service_pb.js";
import { Role as WireRole } from "../../gen/llm/v1/llm_service_pb.js";
import type { ChatMessage, GenerationOptions, Role } from "../providers/provider.js";

const roles: Partial<Record<WireRole, Role>> = {
  [WireRole.SYSTEM]: "system",
  [WireRole.USER]: "user",
  [WireRole.ASSISTANT]: "assistant",
  [WireRole.TOOL]: "tool",
};

const maxStopSequences = 4;

/** Throws INVALID_ARGUMENT with a message naming the field. */
function invalid(field: string, problem: string): never {
  throw new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

/** The model name of a request, which must be set. */
export function requireModel(model: string): string {
  if (model.trim() === "") invalid("model", "is required");
  return model;
}

/** Chat messages as domain messages: at least one, each with a known role. */
export function toChatMessages(messages: readonly WireMessage[]): ChatMessage[] {
  if (messages.length === 0) invalid("messages", "at least one message is required");
  return messages.map((message, i) => {
    const role = roles[message.role];
    if (role === undefined) invalid(`messages[${i}].role`, `unknown role ${message.role}; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL`);
    return message.name === "" ? { role, content: message.content } : { role, content: message.content, name: message.name };
  });
}

/** Generation options as domain options, range-checked. */
export function toGenerationOptions(options: WireOptions | undefined): GenerationOptions {
  const result: GenerationOptions = {};
  if (!options) return result;
  if (options.maxTokens !== undefined) {
    if (options.maxTokens <= 0) invalid("options.max_tokens", `must be positive, got ${options.maxTokens}`);
    result.maxTokens = options.maxTokens;
  }
  if (options.temperature !== undefined) {
    if (!(options.temperature >= 0 && options.temperature <= 2)) invalid("options.temperature", "must be between 0 and 2");
    result.temperature = options.temperature;
  }
  if (options.topP !== undefined) {
    if (!(options.topP >= 0 && options.topP <= 1)) invalid("options.top_p", "must be between 0 and 1");
    result.topP = options.topP;
  }
  if (options.stop.length > 0) {
    if (options.stop.length > maxStopSequences) invalid("options.stop", `at most ${maxStopSequences} stop sequences`);
    if (options.stop.some((s) => s === "")) invalid("options.stop", "stop sequences must not be empty");
    result.stop = [...options.stop];
  }
  if (options.user !== "") result.user = options.user;
  return result;
}

/** Embedding inputs: at least one, none empty. */
export function toEmbedInputs(inputs: readonly string[]): string[] {
  if (inputs.length === 0) invalid("inputs", "at least one input is required");
  inputs.forEach((input, i) => {
    if (input === "") invalid(`inputs[${i}]`, "must not be empty");
  });
  return [...inputs];
}

/** Embedding dimensions, when set, must be positive. */
export function toDimensions(dimensions: number | undefined): number | undefined {
  if (dimensions !== undefined && dimensions <= 0) invalid("dimensions", `must be positive, got ${dimensions}`);
  return dimensions;
}
