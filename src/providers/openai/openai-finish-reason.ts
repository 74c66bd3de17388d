import type { FinishReason } from "../provider.js";

/**
 * The domain finish reason for an OpenAI-family `finish_reason`. The legacy `function_call` counts as
 * `tool_calls`; a vendor string outside the known set becomes `other` rather than failing the call.
 */
export function openAIFinishReason(reason: string): FinishReason {
  switch (reason) {
    case "stop":
    case "length":
    case "content_filter":
    case "tool_calls":
      return reason;
    case "function_call":
      return "tool_calls";
    default:
      return "other";
  }
}
