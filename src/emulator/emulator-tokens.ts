/**
 * The emulator's deterministic tokenizer. A token is a run of non-space characters together with the
 * whitespace before it, so `"Hello, world"` is 2 tokens (`"Hello,"`, `" world"`) and `""` is 0. Whitespace is
 * what `\s` matches in a JavaScript regular expression. Tests compute expected usage and cost with the same
 * rules, so every count the emulator reports is exact and reproducible:
 * - chat prompt (OpenAI, Azure, Anthropic): see {@link chatPromptTokens};
 * - legacy completion prompt: `countTokens(prompt)`;
 * - embeddings: the sum of `countTokens(input)` (a token array counts its length);
 * - completion tokens: `countTokens(answer)`.
 */

/** Tokens added per chat message, for its role and framing. */
export const chatTokensPerMessage = 3;
/** Tokens added once per chat prompt, for priming the reply. */
export const chatTokensPerConversation = 3;

/**
 * Prompt tokens of a chat: for each message `countTokens(text) + 3`, plus 3. Array content counts its text
 * parts joined by "\n"; Anthropic's top-level system prompt, when not empty, counts as one more message.
 */
export function chatPromptTokens(messageTexts: readonly string[]): number {
  let tokens = chatTokensPerConversation;
  for (const text of messageTexts) tokens += countTokens(text) + chatTokensPerMessage;
  return tokens;
}

/** True for the UTF-16 code units that `\s` matches. */
function isSpace(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Number of tokens in `text`: the number of runs of non-space characters. */
export function countTokens(text: string): number {
  let count = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const space = isSpace(text.charCodeAt(index));
    if (!space && !inWord) count++;
    inWord = !space;
  }
  return count;
}

/**
 * The tokens of `text`, each with the whitespace before it; their concatenation is `text`. Whitespace after
 * the last token stays on the last piece, and a text of whitespace only is one piece of zero tokens, so
 * `splitTokens(text).length === countTokens(text)` whenever the text holds a non-space character.
 */
export function splitTokens(text: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  let inWord = false;
  for (let index = 0; index < text.length; index++) {
    const space = isSpace(text.charCodeAt(index));
    if (space && inWord) {
      pieces.push(text.slice(start, index));
      start = index;
    }
    inWord = !space;
  }
  if (inWord) {
    pieces.push(text.slice(start));
  } else if (start < text.length) {
    const trailing = text.slice(start);
    const last = pieces.pop();
    pieces.push(last === undefined ? trailing : last + trailing);
  }
  return pieces;
}
