import type { ChatRequest, CompletionRequest, EmbedRequest } from "../../../providers/provider.js";
import { openAITokenizer, type TokenCounter } from "./openai-tokenizer.js";

/** The tokens a call is expected to take: what a limiter reserves before the call. */
export interface TokenEstimate {
  promptTokens: number;
  /** The output allowance: the request's max tokens, or the configured default. */
  outputTokens: number;
}

/** How an estimator counts. */
export interface TokenEstimatorOptions {
  /** Output tokens reserved for a request without max tokens (pipeline.rateLimiting.defaultMaxTokens). */
  defaultMaxTokens: number;
  /**
   * Characters per request counted exactly, a non-ASCII character counting as sixteen (see `costOf`); beyond
   * them the count is extrapolated. Default 64 Ki.
   */
  exactMaxChars?: number;
  /** Characters tokenized between two yields to the event loop, weighed the same way. Default 2 Ki. */
  chunkChars?: number;
}

/** OpenAI's chat framing: tokens per message (plus one for the role), and for priming the reply. */
const tokensPerMessage = 3;
const roleTokens = 1;
const tokensPerConversation = 3;

/**
 * Estimates the tokens of a request before it is sent, so that limiters can reserve them.
 *
 * OpenAI models (see `openAITokenizer.encodingFor`) are counted with their real tokenizer (o200k_base or
 * cl100k_base) and OpenAI's chat framing: 3 tokens per message plus its role, its name (plus one) and its
 * content, and 3 for the reply. Other models (Anthropic, whose tokenizer is not public, and unknown ones) are
 * estimated as `ceil(chars / 3.5)` per text with the same framing. Output is the request's `maxTokens` or
 * `defaultMaxTokens`; embeddings have none.
 *
 * Long prompts never block the event loop for long: text is tokenized in chunks of `chunkChars` cut at word
 * boundaries, with a yield to the event loop between chunks, and a run of more than 256 characters without
 * whitespace (CJK text, base64), or of whitespace alone, is counted in 256-character pieces (BPE's cost grows with the square of a run's
 * length; each cut may add a token). Past `exactMaxChars` characters in one request, the rest is extrapolated
 * at the tokens-per-character ratio of the part counted, so a 4 MB prompt costs what 64 KiB do. Both budgets
 * weigh a non-ASCII character as sixteen ASCII ones: BPE spends 10 to 20 times more per character on multi-byte text (64 KiB of
 * CJK or of mixed Unicode spaces took 150-230 ms where 64 KiB of English took 10 ms).
 */
export class TokenEstimator {
  readonly #defaultMaxTokens: number;
  readonly #exactMaxChars: number;
  readonly #chunkChars: number;

  constructor(options: TokenEstimatorOptions) {
    this.#defaultMaxTokens = options.defaultMaxTokens;
    this.#exactMaxChars = options.exactMaxChars ?? 64 * 1024;
    this.#chunkChars = Math.max(maxRunChars, options.chunkChars ?? 2 * 1024);
  }

  /** Characters-based estimate of a text's tokens: `ceil(chars / 3.5)`. */
  static estimateFromChars(chars: number): number {
    return Math.ceil((chars * 2) / 7);
  }

  /** Loads the tokenizers of `models` now (all when none is given; see `openAITokenizer.preload`). */
  static preload(models?: Iterable<string>): Promise<void> {
    return openAITokenizer.preload(models);
  }

  async chat(request: ChatRequest): Promise<TokenEstimate> {
    const texts = request.messages.flatMap((m) => (m.name === undefined ? [m.content] : [m.content, m.name]));
    const names = request.messages.filter((m) => m.name !== undefined).length;
    const framing = tokensPerConversation + request.messages.length * (tokensPerMessage + roleTokens) + names;
    return {
      promptTokens: framing + (await this.#count(request.model, texts)),
      outputTokens: this.#output(request.maxTokens),
    };
  }

  async completion(request: CompletionRequest): Promise<TokenEstimate> {
    return {
      promptTokens: await this.#count(request.model, [request.prompt]),
      outputTokens: this.#output(request.maxTokens),
    };
  }

  async embed(request: EmbedRequest): Promise<TokenEstimate> {
    return { promptTokens: await this.#count(request.model, request.inputs), outputTokens: 0 };
  }

  /** The tokens of a text the model produced (output delivered by a stream that was cut). */
  text(model: string, text: string): Promise<number> {
    return this.#count(model, [text]);
  }

  #output(maxTokens: number | undefined): number {
    return maxTokens !== undefined && maxTokens > 0 ? maxTokens : this.#defaultMaxTokens;
  }

  async #count(model: string, texts: readonly string[]): Promise<number> {
    const encoding = openAITokenizer.encodingFor(model);
    const counter = encoding === undefined ? undefined : await openAITokenizer.load(encoding).catch(() => undefined);
    if (counter === undefined)
      return texts.reduce((sum, text) => sum + TokenEstimator.estimateFromChars(text.length), 0);
    let budget = this.#exactMaxChars;
    let exactChars = 0;
    let exactTokens = 0;
    let overflowChars = 0;
    for (const text of texts) {
      const limit = advance(text, 0, budget);
      const end = limit >= text.length ? text.length : cutPoint(text, 0, limit);
      exactTokens += await this.#countChunked(counter, text.slice(0, end));
      exactChars += end;
      budget -= costOf(text, 0, end);
      overflowChars += text.length - end;
    }
    if (overflowChars === 0) return exactTokens;
    const extra =
      exactChars === 0
        ? TokenEstimator.estimateFromChars(overflowChars)
        : Math.ceil((overflowChars * exactTokens) / exactChars);
    return exactTokens + extra;
  }

  async #countChunked(counter: TokenCounter, text: string): Promise<number> {
    if (text.length * nonAsciiCost <= this.#chunkChars) return countBounded(counter, text);
    let tokens = 0;
    for (let start = 0; start < text.length; ) {
      const limit = advance(text, start, this.#chunkChars);
      const end = limit >= text.length ? text.length : cutPoint(text, start, limit);
      tokens += countBounded(counter, text.slice(start, end));
      start = end;
      if (start < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return tokens;
  }
}

/** What a non-ASCII character weighs in the exact-count and chunk budgets, an ASCII one weighing 1. */
const nonAsciiCost = 16;

/** The weight of `text[start, end)`. */
function costOf(text: string, start: number, end: number): number {
  let cost = 0;
  for (let i = start; i < end; i++) cost += text.charCodeAt(i) < 128 ? 1 : nonAsciiCost;
  return cost;
}

/** The index at which the characters from `start` reach `budget` in weight (or the text's end). */
function advance(text: string, start: number, budget: number): number {
  let cost = 0;
  let i = start;
  while (i < text.length && cost < budget) {
    cost += text.charCodeAt(i) < 128 ? 1 : nonAsciiCost;
    i++;
  }
  return i;
}

const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13);

/** The longest run of non-whitespace, or of whitespace, tokenized in one piece. */
const maxRunChars = 64;
const longRun = new RegExp(`\\S{${maxRunChars + 1},}|\\s{${maxRunChars + 1},}`, "g");

/**
 * Counts `text`, cutting every run longer than `maxRunChars` of non-whitespace (CJK, base64) or of whitespace
 * (BPE sees a whitespace run as one piece too: 64 KiB of mixed Unicode spaces took 450 ms uncut) into pieces.
 */
function countBounded(counter: TokenCounter, text: string): number {
  if (text.length <= maxRunChars) return counter(text);
  let tokens = 0;
  let from = 0;
  for (const match of text.matchAll(longRun)) {
    if (match.index > from) tokens += counter(text.slice(from, match.index));
    const runEnd = match.index + match[0].length;
    for (let start = match.index; start < runEnd; ) {
      const end = start + maxRunChars >= runEnd ? runEnd : cutPoint(text, start, start + maxRunChars);
      tokens += counter(text.slice(start, end));
      start = end;
    }
    from = runEnd;
  }
  return from < text.length ? tokens + counter(text.slice(from)) : tokens;
}

/**
 * Where to cut `text` at or before `end` (and after `start`) so that both sides tokenize as they would
 * together: before a single space between two words, else before any whitespace that follows a word, else
 * at `end` itself (a long run without whitespace), never inside a surrogate pair.
 */
function cutPoint(text: string, start: number, end: number): number {
  const floor = start + Math.floor((end - start) / 2);
  for (let i = end; i > floor; i--) {
    if (text.charCodeAt(i) === 32 && !isSpace(text.charCodeAt(i - 1)) && !isSpace(text.charCodeAt(i + 1))) return i;
  }
  for (let i = end; i > floor; i--) {
    if (isSpace(text.charCodeAt(i)) && !isSpace(text.charCodeAt(i - 1))) return i;
  }
  const high = text.charCodeAt(end - 1);
  return high >= 0xd800 && high <= 0xdbff && end - 1 > start ? end - 1 : end;
}
