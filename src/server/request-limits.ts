import { LLMService } from "../../gen/llm/v1/llm_service_pb.js";
import type { CountedField } from "./field-count.js";

/**
 * Sizes and counts a request may have, checked before anything is tokenized, limited or sent: each bound is
 * far above what a provider accepts or a real caller sends, and low enough that one request cannot make the
 * gateway spend seconds of CPU or megabytes of logs (1,000,000 empty messages fit in the default 4 MiB).
 */
export const requestLimits = {
  /** Messages in one chat request. */
  messages: 2_048,
  /** Characters of a message's `name` (OpenAI allows 64). */
  nameChars: 64,
  /** Characters of a model (route) name. */
  modelChars: 256,
  /** Characters of one stop sequence. */
  stopChars: 256,
  /** Characters of `user`. */
  userChars: 256,
  /** Inputs in one embedding request (OpenAI's limit). */
  embeddingInputs: 2_048,
  /** Embedding dimensions (the largest models have 3,072). */
  dimensions: 16_384,
  /** Output tokens one request may ask for (no model answers with more today). */
  maxTokens: 1_048_576,
  /** Entries of a request's `metadata` map. */
  metadataEntries: 32,
  /** Characters of a metadata key. */
  metadataKeyChars: 64,
  /** Characters of a metadata value. */
  metadataValueChars: 512,
  /** Characters of the client id header (pipeline.rateLimiting.clientHeader): it reaches logs and spans. */
  clientIdChars: 256,
} as const;

const messagesField: CountedField = { number: 2, name: "messages", noun: "messages", limit: requestLimits.messages };
const inputsField: CountedField = { number: 2, name: "inputs", noun: "inputs", limit: requestLimits.embeddingInputs };

/**
 * The repeated fields counted before decoding, by request path: `messages` of ChatRequest and `inputs` of
 * EmbedRequest (field 2 of each, proto/llm/v1/llm_service.proto), with the same limits and messages as the
 * checks after decoding (src/server/request-validation.ts), which JSON requests go through.
 */
export const countedRequestFields: Readonly<Record<string, readonly CountedField[]>> = {
  [`/${LLMService.typeName}/${LLMService.method.chat.name}`]: [messagesField],
  [`/${LLMService.typeName}/${LLMService.method.streamChat.name}`]: [messagesField],
  [`/${LLMService.typeName}/${LLMService.method.embed.name}`]: [inputsField],
};
