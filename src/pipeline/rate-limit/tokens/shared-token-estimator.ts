import type { ChatRequest, EmbedRequest } from "../../../providers/provider.js";
import { openAITokenizer } from "./openai-tokenizer.js";
import { TokenEstimator, type TokenEstimate } from "./token-estimator.js";

type Memo = WeakMap<object, Map<string, Promise<TokenEstimate>>>;

/**
 * A TokenEstimator that counts each call's prompt once. A call is estimated by its per-client limit (with its
 * route's first model) and again by each target's limit, attempt and fallback it reaches; those estimates all
 * read the same messages (or inputs) array, so the count is kept for that array, per tokenizer and output
 * allowance, for as long as the array lives. Tokenizing is the gateway's largest per-request cost for long
 * prompts (64 KiB of text counted exactly, per estimate).
 */
export class SharedTokenEstimator extends TokenEstimator {
  readonly #chats: Memo = new WeakMap();
  readonly #embeds: Memo = new WeakMap();

  override chat(request: ChatRequest): Promise<TokenEstimate> {
    return remembered(this.#chats, request.messages, `${tokenizerOf(request.model)} ${request.maxTokens ?? ""}`, () =>
      super.chat(request),
    );
  }

  override embed(request: EmbedRequest): Promise<TokenEstimate> {
    return remembered(this.#embeds, request.inputs, tokenizerOf(request.model), () => super.embed(request));
  }
}

/** What counts a model's tokens: its OpenAI encoding, or the character estimate. */
function tokenizerOf(model: string): string {
  return openAITokenizer.encodingFor(model) ?? "chars";
}

function remembered(
  memo: Memo,
  owner: object,
  key: string,
  estimate: () => Promise<TokenEstimate>,
): Promise<TokenEstimate> {
  let byKey = memo.get(owner);
  if (byKey === undefined) {
    byKey = new Map();
    memo.set(owner, byKey);
  }
  let estimated = byKey.get(key);
  if (estimated === undefined) {
    estimated = estimate();
    byKey.set(key, estimated);
    estimated.catch(() => byKey.delete(key));
  }
  return estimated;
}
