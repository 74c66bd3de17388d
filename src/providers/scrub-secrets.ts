/**
 * Credential-shaped text a provider may echo in an error message: OpenAI and Anthropic keys whole or masked
 * ("Incorrect API key provided: sk-abcdef****wxyz"), bearer and basic tokens, `api-key: ...` pairs, Azure's
 * 32-hex-digit keys, and the gateway's own client keys.
 */
const secretPatterns: readonly [RegExp, string][] = [
  [/\bsk-[A-Za-z0-9_*.-]{3,}/g, "[redacted key]"],
  [/\bllmgw_[A-Za-z0-9_-]{6,}/g, "[redacted key]"],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=*-]{6,}/gi, "$1 [redacted]"],
  [
    // Not a scheme word: "authorization: Bearer sk-…" is the Bearer rule's (the scheme stays readable).
    /\b(api[-_]?key|x-api-key|authorization|access[-_]?token|secret)(["']?\s*[:=]\s*["']?)(?!(?:Bearer|Basic)\b)[^\s"',;}]{4,}/gi,
    "$1$2[redacted]",
  ],
  [/(?<![A-Za-z0-9_])[A-Fa-f0-9]{32}(?![A-Za-z0-9_])/g, "[redacted]"],
];

/** The longest provider message kept; the rest is cut (a provider may answer an error with a whole page). */
const maxMessageChars = 2_000;

/**
 * Text read past a cut before scrubbing, so that a credential across the cut is recognised whole (and
 * replaced) rather than kept in part; longer than any credential the patterns match in practice.
 */
const scrubMarginChars = 1_024;

/**
 * A provider's message made safe to log, trace and return to a caller: every credential-shaped fragment is
 * replaced and the text is bounded. ProviderError applies it to every message, so this is the one place.
 */
export function scrubSecrets(text: string): string {
  return scrubbedPrefix(text, maxMessageChars);
}

/**
 * At most `maxChars` characters of `text` (and "…" when it was cut), credentials replaced before the cut: a
 * key that the cut would split is replaced whole, never kept in part. The scrubbing reads a bounded prefix, so
 * a huge message costs no more than a short one.
 */
export function scrubbedPrefix(text: string, maxChars: number): string {
  const precut = text.length > maxChars + scrubMarginChars;
  let scrubbed = precut ? text.slice(0, maxChars + scrubMarginChars) : text;
  for (const [pattern, replacement] of secretPatterns) scrubbed = scrubbed.replace(pattern, replacement);
  if (scrubbed.length > maxChars) return `${scrubbed.slice(0, maxChars)}…`;
  return precut ? `${scrubbed}…` : scrubbed;
}
