import type { GenerationOptions as WireOptions, Message as WireMessage } from "../../gen/llm/v1/llm_service_pb.js";
import { Role as WireRole } from "../../gen/llm/v1/llm_service_pb.js";
import type { ChatMessage, GenerationOptions, Role } from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";
import { requestLimits as limits } from "./request-limits.js";

const roles: Partial<Record<WireRole, Role>> = {
  [WireRole.SYSTEM]: "system",
  [WireRole.USER]: "user",
  [WireRole.ASSISTANT]: "assistant",
  [WireRole.TOOL]: "tool",
};

const maxStopSequences = 4;

/**
 * Throws an error of kind `invalid_request` with a message naming the field: the error interceptor maps it, like
 * every other error kind, to INVALID_ARGUMENT with an ErrorDetail (src/server/error-codes.ts). No provider is
 * involved, so the detail names none.
 */
function invalid(field: string, problem: string): never {
  throw new ProviderError({ kind: "invalid_request", provider: "", message: `${field}: ${problem}` });
}

/** The model name of a request, which must be set. */
export function requireModel(model: string): string {
  if (model.trim() === "") invalid("model", "is required");
  if (model.length > limits.modelChars)
    invalid("model", `${model.length} characters, the limit is ${limits.modelChars}`);
  return model;
}

/** Chat messages as domain messages: at least one, each with a known role. */
export function toChatMessages(messages: readonly WireMessage[]): ChatMessage[] {
  if (messages.length === 0) invalid("messages", "at least one message is required");
  if (messages.length > limits.messages)
    invalid("messages", `${messages.length} messages, the limit is ${limits.messages}`);
  return messages.map((message, i) => {
    const role = roles[message.role];
    if (role === undefined)
      invalid(
        `messages[${i}].role`,
        `${message.role === WireRole.UNSPECIFIED ? "not set (ROLE_UNSPECIFIED, 0)" : `${message.role} is not a role`}; use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL`,
      );
    if (message.name.length > limits.nameChars)
      invalid(`messages[${i}].name`, `${message.name.length} characters, the limit is ${limits.nameChars}`);
    return message.name === ""
      ? { role, content: message.content }
      : { role, content: message.content, name: message.name };
  });
}

/** Generation options as domain options, range-checked. */
export function toGenerationOptions(options: WireOptions | undefined): GenerationOptions {
  const result: GenerationOptions = {};
  if (!options) return result;
  if (options.maxTokens !== undefined) {
    if (options.maxTokens <= 0) invalid("options.max_tokens", `must be positive, got ${options.maxTokens}`);
    if (options.maxTokens > limits.maxTokens)
      invalid("options.max_tokens", `${options.maxTokens} is above the limit of ${limits.maxTokens}`);
    result.maxTokens = options.maxTokens;
  }
  if (options.temperature !== undefined) {
    if (!(options.temperature >= 0 && options.temperature <= 2))
      invalid("options.temperature", "must be between 0 and 2");
    result.temperature = options.temperature;
  }
  if (options.topP !== undefined) {
    if (!(options.topP >= 0 && options.topP <= 1)) invalid("options.top_p", "must be between 0 and 1");
    result.topP = options.topP;
  }
  if (options.stop.length > 0) {
    if (options.stop.length > maxStopSequences) invalid("options.stop", `at most ${maxStopSequences} stop sequences`);
    if (options.stop.some((s) => s === "")) invalid("options.stop", "stop sequences must not be empty");
    if (options.stop.some((s) => s.length > limits.stopChars))
      invalid("options.stop", `a stop sequence is longer than ${limits.stopChars} characters`);
    result.stop = [...options.stop];
  }
  if (options.user !== "") result.user = checkUser(options.user, "options.user");
  return result;
}

/** Embedding inputs: at least one, none empty. */
export function toEmbedInputs(inputs: readonly string[]): string[] {
  if (inputs.length === 0) invalid("inputs", "at least one input is required");
  if (inputs.length > limits.embeddingInputs)
    invalid("inputs", `${inputs.length} inputs, the limit is ${limits.embeddingInputs}`);
  inputs.forEach((input, i) => {
    if (input === "") invalid(`inputs[${i}]`, "must not be empty");
  });
  return [...inputs];
}

/** Embedding dimensions, when set, must be positive. */
export function toDimensions(dimensions: number | undefined): number | undefined {
  if (dimensions !== undefined && dimensions <= 0) invalid("dimensions", `must be positive, got ${dimensions}`);
  if (dimensions !== undefined && dimensions > limits.dimensions)
    invalid("dimensions", `${dimensions} is above the limit of ${limits.dimensions}`);
  return dimensions;
}

/** A `user` value within its length limit. */
export function checkUser(user: string, field = "user"): string {
  if (user.length > limits.userChars) invalid(field, `${user.length} characters, the limit is ${limits.userChars}`);
  return user;
}

/** The client id a caller sends in `header`, within its length limit. */
export function checkClientId(id: string, header: string): string {
  if (id.length > limits.clientIdChars)
    invalid(`header ${header}`, `${id.length} characters, the limit is ${limits.clientIdChars}`);
  return id;
}

/** A request's metadata map within its limits (entries, key and value lengths). */
export function checkMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const keys = Object.keys(metadata);
  if (keys.length > limits.metadataEntries)
    invalid("metadata", `${keys.length} entries, the limit is ${limits.metadataEntries}`);
  for (const key of keys) {
    if (key.length > limits.metadataKeyChars)
      invalid("metadata", `a key of ${key.length} characters, the limit is ${limits.metadataKeyChars}`);
    const value = metadata[key] ?? "";
    if (value.length > limits.metadataValueChars)
      invalid(
        `metadata[${JSON.stringify(key)}]`,
        `${value.length} characters, the limit is ${limits.metadataValueChars}`,
      );
  }
  return { ...metadata };
}
