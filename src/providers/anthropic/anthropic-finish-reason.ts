import type { FinishReason } from "../provider.js";

/**
 * Maps Anthropic's `stop_reason` onto the domain's closed set. Reasons without a domain equivalent
 * (`pause_turn`, reasons added later, a missing reason) become `other` rather than a guess.
 */
export function anthropicFinishReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      return "other";
  }
}
