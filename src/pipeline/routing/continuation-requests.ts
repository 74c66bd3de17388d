import type { ChatMessage, ChatRequest, CompletionRequest } from "../../providers/provider.js";
import type { RouteMember } from "./route-member.js";

/** What was already sent to the client when a stream broke. */
export interface Delivered {
  text: string;
  /** Delta parts sent; about one token each. */
  chunks: number;
}

/** How to continue a broken stream on one target. */
export interface ContinuationPlan<R> {
  /** The request to send, the target's model not yet set. */
  request: R;
  /**
   * Whitespace at the end of the delivered text that the request could not carry (Anthropic refuses a prefill
   * ending in whitespace): as much leading whitespace of the continuation is dropped, so it is not sent twice.
   */
  skipLeading: string;
}

/** Builds the continuation request of one operation for a target, or undefined when the target cannot continue. */
export type Continuer<R> = (member: RouteMember, request: R, delivered: Delivered) => ContinuationPlan<R> | undefined;

/** The output budget left: the client's max_tokens less what was delivered, at least 1. */
function remainingMaxTokens(maxTokens: number | undefined, delivered: Delivered): { maxTokens?: number } {
  return maxTokens === undefined ? {} : { maxTokens: Math.max(1, maxTokens - delivered.chunks) };
}

/**
 * How each streamed operation continues on another target from what was delivered.
 * - chat: only targets that continue an assistant prefill (Anthropic) can: the request is the original
 *   conversation plus an assistant message holding the delivered text (appended to the caller's own final
 *   assistant message if there is one), with trailing whitespace trimmed as the Messages API requires. The
 *   OpenAI-family chat APIs have no prefill (a final assistant message is answered, not continued), so those
 *   targets are skipped: re-asking them would send the client a second, different answer.
 * - completion: a text completion continues any prompt, so OpenAI-family targets get the prompt plus the
 *   delivered text. Anthropic targets, which serve completions as a chat, are skipped.
 * Both lower max_tokens by the delivered chunks, so the client's output budget holds across targets.
 */
export const continuationRequests: { chat: Continuer<ChatRequest>; completion: Continuer<CompletionRequest> } = {
  chat(member, request, delivered) {
    if (member.provider.type !== "anthropic") return undefined;
    const messages: ChatMessage[] = [...request.messages];
    const last = messages.at(-1);
    let full = delivered.text;
    if (last?.role === "assistant") {
      messages.pop();
      full = last.content + full;
    }
    const prefill = full.trimEnd();
    if (prefill !== "") messages.push({ role: "assistant", content: prefill });
    return {
      request: { ...request, messages, ...remainingMaxTokens(request.maxTokens, delivered) },
      skipLeading: full.slice(prefill.length),
    };
  },
  completion(member, request, delivered) {
    if (member.provider.type === "anthropic") return undefined;
    return {
      request: {
        ...request,
        prompt: request.prompt + delivered.text,
        ...remainingMaxTokens(request.maxTokens, delivered),
      },
      skipLeading: "",
    };
  },
};
