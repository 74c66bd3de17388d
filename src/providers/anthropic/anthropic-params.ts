import type { MessageCreateParamsNonStreaming, MessageParam } from "@anthropic-ai/sdk/resources/messages";
import type { ChatRequest } from "../provider.js";
import { ProviderError } from "../provider-error.js";

/**
 * The Messages API body of a chat request, without `stream` (the caller adds it). SDK 1.14 no longer
 * types the sampling fields, but the API still reads them and the SDK sends the body as given.
 */
export type AnthropicParams = Omit<MessageCreateParamsNonStreaming, "stream"> & {
  temperature?: number;
  top_p?: number;
};

type Turn = { role: "user" | "assistant"; content: string };

const turnSeparator = "\n\n";

/**
 * Maps a domain chat request onto the Messages API body. Anthropic takes the system prompt apart from the
 * messages and wants user and assistant turns to alternate, starting with the user: system messages are
 * gathered into `system` and consecutive turns of one role are merged. A conversation that still breaks
 * the rules is refused with `invalid_request` rather than patched with invented content.
 * Only the options the request sets are sent.
 */
export function anthropicParams(request: ChatRequest, defaultMaxTokens: number, provider: string): AnthropicParams {
  const systems: string[] = [];
  const turns: Turn[] = [];
  for (const message of request.messages) {
    if (message.role === "system") {
      systems.push(message.content);
      continue;
    }
    if (message.role === "tool") {
      throw invalid(provider, "tool messages are not supported by this provider yet");
    }
    const last = turns.at(-1);
    if (last !== undefined && last.role === message.role) {
      last.content = `${last.content}${turnSeparator}${message.content}`;
    } else {
      turns.push({ role: message.role, content: message.content });
    }
  }
  const first = turns[0];
  if (first === undefined) {
    throw invalid(provider, "the conversation needs at least one user or assistant message");
  }
  if (first.role !== "user") {
    throw invalid(provider, "the conversation must start with a user message (after any system messages)");
  }

  const params: AnthropicParams = {
    model: request.model,
    max_tokens: request.maxTokens ?? defaultMaxTokens,
    messages: turns.map((turn): MessageParam => ({ role: turn.role, content: turn.content })),
  };
  if (systems.length > 0) params.system = systems.join(turnSeparator);
  if (request.stop !== undefined && request.stop.length > 0) params.stop_sequences = request.stop;
  if (request.temperature !== undefined) params.temperature = request.temperature;
  if (request.topP !== undefined) params.top_p = request.topP;
  if (request.user !== undefined) params.metadata = { user_id: request.user };
  return params;
}

function invalid(provider: string, reason: string): ProviderError {
  return new ProviderError({ kind: "invalid_request", provider, message: `${provider}: ${reason}` });
}
