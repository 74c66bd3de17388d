/** Read-only view of response headers, as both SDKs expose them. */
export interface HeaderSource {
  get(name: string): string | null;
}

const maxRetryAfterMs = 24 * 60 * 60 * 1000;

/**
 * How long a provider asked us to wait before retrying, in milliseconds, from (in this order)
 * `retry-after-ms` (OpenAI, Azure), `retry-after` (seconds or an HTTP date) and Anthropic's
 * `anthropic-ratelimit-*-reset` timestamps. Undefined when the answer says nothing usable.
 */
export function retryAfterMs(headers: HeaderSource | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = finiteNonNegative(Number(headers.get("retry-after-ms") ?? Number.NaN));
  if (ms !== undefined) return ms;
  const retryAfter = headers.get("retry-after");
  if (retryAfter !== null && retryAfter.trim() !== "") {
    const seconds = finiteNonNegative(Number(retryAfter));
    if (seconds !== undefined) return Math.min(seconds * 1000, maxRetryAfterMs);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.min(Math.max(0, date - now), maxRetryAfterMs);
  }
  let latestReset: number | undefined;
  for (const name of ["anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset"]) {
    const value = headers.get(name);
    const at = value === null ? Number.NaN : Date.parse(value);
    if (!Number.isNaN(at)) latestReset = Math.max(latestReset ?? 0, at - now);
  }
  return latestReset === undefined ? undefined : Math.min(Math.max(0, latestReset), maxRetryAfterMs);
}

function finiteNonNegative(value: number): number | undefined {
  return Number.isFinite(value) && value >= 0 ? Math.min(value, maxRetryAfterMs) : undefined;
}
