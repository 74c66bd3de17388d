import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
  ChatCompletionMessageParam,
  CompletionCreateParamsNonStreaming,
  CompletionCreateParamsStreaming,
  EmbeddingCreateParams,
} from "openai/resources";
import type { ChatMessage, ChatRequest, CompletionRequest, EmbedRequest, GenerationOptions } from "../provider.js";
import { ProviderError } from "../provider-error.js";

/** The sampling fields shared by chat and completion bodies, in wire names. */
interface SamplingParams {
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  stop?: string[];
  user?: string;
}

/** Streams ask for the final usage chunk: without it a stream's tokens could not be counted. */
const streamFields = { stream: true, stream_options: { include_usage: true } } as const;

/**
 * Request bodies for the OpenAI wire protocol, built from domain requests. Only fields the caller set
 * are sent, so each provider applies its own defaults. `provider` is the configured name, used in the
 * ProviderError thrown for a message the adapter cannot express yet.
 */
export const openAIParams = {
  chat(request: ChatRequest, provider: string): ChatCompletionCreateParamsNonStreaming {
    const messages = request.messages.map((m) => wireMessage(m, provider));
    return { model: request.model, messages, ...sampling(request) };
  },

  chatStream(request: ChatRequest, provider: string): ChatCompletionCreateParamsStreaming {
    return { ...openAIParams.chat(request, provider), ...streamFields };
  },

  completion(request: CompletionRequest): CompletionCreateParamsNonStreaming {
    return { model: request.model, prompt: request.prompt, ...sampling(request) };
  },

  completionStream(request: CompletionRequest): CompletionCreateParamsStreaming {
    return { ...openAIParams.completion(request), ...streamFields };
  },

  /** Asks for floats: every OpenAI-compatible server supports them, base64 not always. */
  embedding(request: EmbedRequest): EmbeddingCreateParams {
    const params: EmbeddingCreateParams = { model: request.model, input: request.inputs, encoding_format: "float" };
    if (request.dimensions !== undefined) params.dimensions = request.dimensions;
    if (request.user !== undefined) params.user = request.user;
    return params;
  },
};

function sampling(options: GenerationOptions): SamplingParams {
  const params: SamplingParams = {};
  if (options.maxTokens !== undefined) params.max_tokens = options.maxTokens;
  if (options.temperature !== undefined) params.temperature = options.temperature;
  if (options.topP !== undefined) params.top_p = options.topP;
  if (options.stop !== undefined && options.stop.length > 0) params.stop = options.stop;
  if (options.user !== undefined) params.user = options.user;
  return params;
}

function wireMessage(message: ChatMessage, provider: string): ChatCompletionMessageParam {
  const name = message.name === undefined ? {} : { name: message.name };
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content, ...name };
    case "user":
      return { role: "user", content: message.content, ...name };
    case "assistant":
      return { role: "assistant", content: message.content, ...name };
    case "tool":
      throw new ProviderError({
        kind: "invalid_request",
        provider,
        message: `${provider}: tool messages are not supported yet (they need a tool call id)`,
      });
  }
}
