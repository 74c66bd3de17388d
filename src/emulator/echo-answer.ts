import { countTokens, splitTokens } from "./emulator-tokens.js";

/** The emulator's answer to one generation request, in API-neutral terms. */
export interface EchoAnswer {
  text: string;
  /** One piece per token; streams send one piece per content chunk. */
  pieces: string[];
  completionTokens: number;
  /** `stop`: ended naturally or at a stop sequence; `length`: cut at the token limit. */
  finish: "stop" | "length";
  /** The stop sequence that cut the answer, if one did. */
  stopSequence: string | undefined;
}

/**
 * Builds the deterministic answer `"Echo: " + source`: cut before the earliest stop sequence it contains,
 * then cut to `maxTokens` tokens. It ends with `length` when the token limit cut it (also when the limit is
 * reached before a stop sequence would be), else with `stop`.
 *
 * With an assistant `prefill` (Anthropic), the answer continues it as the real API does: when the echo text
 * starts with the prefill, the answer is the rest of it (prefill "Echo: a b" for source "a b c d" answers
 * " c d"); otherwise it is the whole echo text. Stop sequences and `maxTokens` apply to the new text only,
 * and only its tokens count as completion tokens.
 */
export function echoAnswer(
  source: string,
  maxTokens: number | undefined,
  stopSequences: readonly string[],
  prefill = "",
): EchoAnswer {
  const echo = `Echo: ${source}`;
  let text = prefill !== "" && echo.startsWith(prefill) ? echo.slice(prefill.length) : echo;
  let stopSequence: string | undefined;
  let stopAt = -1;
  for (const sequence of stopSequences) {
    if (sequence === "") continue;
    const at = text.indexOf(sequence);
    if (at !== -1 && (stopAt === -1 || at < stopAt)) {
      stopAt = at;
      stopSequence = sequence;
    }
  }
  if (stopAt !== -1) text = text.slice(0, stopAt);
  let pieces = splitTokens(text);
  let completionTokens = countTokens(text);
  if (maxTokens !== undefined && completionTokens > maxTokens) {
    pieces = pieces.slice(0, maxTokens);
    text = pieces.join("");
    completionTokens = maxTokens;
    return { text, pieces, completionTokens, finish: "length", stopSequence: undefined };
  }
  return { text, pieces, completionTokens, finish: "stop", stopSequence };
}
