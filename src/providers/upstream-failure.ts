import type { ProviderErrorKind } from "./provider-error.js";
import { scrubbedPrefix } from "./scrub-secrets.js";

/** Longest upstream text kept in a message: an HTML error page from a proxy is no message. */
const maxTextLength = 1000;

/** System error codes of a connection that could not be made or was cut while the answer was read. */
const connectionCodes: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * The kind an HTTP error status means for every vendor, or undefined for a 4xx the vendor's own error type
 * must decide (a 409, say). 5xx are `unavailable`, 529 `overloaded`. Vendor mappers check what only their
 * bodies say (context length, quota codes, an overloaded 503) first.
 */
export function kindOfStatus(status: number): ProviderErrorKind | undefined {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 402) return "quota_exceeded";
  if (status === 404) return "not_found";
  if (status === 408) return "timeout";
  if (status === 529) return "overloaded";
  if (status >= 500) return "unavailable";
  if (status === 400 || status === 413 || status === 422) return "invalid_request";
  return undefined;
}

/**
 * The first connection-failure code along an error's cause chain (a system code such as ECONNRESET, or
 * undici's UND_ERR_*), or undefined.
 */
export function connectionErrorCode(error: unknown): string | undefined {
  return causeChain(error)
    .map(codeOf)
    .find((code) => code !== undefined);
}

/**
 * Whether an error is the connection failing below HTTP: a coded connection failure, undici's parser error
 * (an answer whose HTTP framing broke mid-way, such as a chunk size that is not hexadecimal), or undici's
 * `TypeError: terminated` (a body cut short) or `fetch failed`, anywhere along its cause chain.
 */
export function isConnectionLoss(error: unknown): boolean {
  return causeChain(error).some(
    (e) =>
      e.message === "terminated" ||
      e.message === "fetch failed" ||
      e.name === "HTTPParserError" ||
      codeOf(e) !== undefined,
  );
}

/**
 * An upstream message as a ProviderError carries it: prefixed with the configured provider name, the
 * provider's API key cut out and credential-shaped text replaced (scrubbedPrefix: before the cut, so no key
 * is kept in part) and at most 1,000 characters of upstream text.
 */
export function upstreamMessage(provider: string, text: string, secret?: string): string {
  const keyless = secret === undefined || secret.length < 4 ? text : text.split(secret).join("[REDACTED]");
  return `${provider}: ${scrubbedPrefix(keyless, maxTextLength)}`;
}

function codeOf(error: Error): string | undefined {
  const code = "code" in error ? error.code : undefined;
  if (typeof code !== "string") return undefined;
  return connectionCodes.has(code) || code.startsWith("UND_ERR_") ? code : undefined;
}

function causeChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 6) {
    chain.push(current);
    current = current.cause;
  }
  return chain;
}
