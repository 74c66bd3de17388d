import type { HeaderSource } from "./retry-after.js";

/** One limit a provider reported: what is left of it and when it is back to full. */
export interface UpstreamLimit {
  /** The limit itself, when the provider sent it. */
  limit?: number;
  remaining: number;
  /** When the limit is fully replenished, as a `Date.now()` timestamp; undefined when not reported. */
  resetAt?: number;
}

/**
 * The rate-limit state a provider reported with one answer, read from its headers, so that the gateway's own
 * limiter can slow down before the provider starts answering 429. Reset times are absolute, taken when the
 * headers arrived, so that a state read at the end of a long stream is still right.
 */
export interface UpstreamRateLimit {
  /** When the headers were read, as a `Date.now()` timestamp. */
  observedAt: number;
  requests?: UpstreamLimit;
  /** Tokens in general (OpenAI, Azure; Anthropic's most restrictive token limit). */
  tokens?: UpstreamLimit;
  /** Anthropic's input-token limit. */
  inputTokens?: UpstreamLimit;
  /** Anthropic's output-token limit. */
  outputTokens?: UpstreamLimit;
}

/** The longest reset accepted from a header (a day): anything longer is a broken header. */
const maxResetMs = 24 * 60 * 60 * 1000;

const openAINames = {
  requests: ["x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests"],
  tokens: ["x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens"],
} as const;

const anthropicDimensions = {
  requests: "requests",
  tokens: "tokens",
  inputTokens: "input-tokens",
  outputTokens: "output-tokens",
} as const;

/**
 * Reads the rate-limit headers of one answer: OpenAI and Azure `x-ratelimit-{limit,remaining,reset}-{requests,
 * tokens}` (resets as Go durations such as `6ms`, `1s`, `1m30s`) and Anthropic
 * `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}` (resets as
 * RFC 3339 times). A dimension appears only when its `remaining` count is readable; undefined when the answer
 * has none at all.
 */
export function upstreamRateLimit(
  headers: HeaderSource | undefined,
  now: number = Date.now(),
): UpstreamRateLimit | undefined {
  if (!headers) return undefined;
  const state: UpstreamRateLimit = { observedAt: now };
  let found = false;
  for (const key of ["requests", "tokens"] as const) {
    const [limit, remaining, reset] = openAINames[key];
    const dimension = readLimit(headers, limit, remaining, reset, (value) => durationResetAt(value, now));
    if (dimension) {
      state[key] = dimension;
      found = true;
    }
  }
  for (const key of ["requests", "tokens", "inputTokens", "outputTokens"] as const) {
    const prefix = `anthropic-ratelimit-${anthropicDimensions[key]}`;
    const dimension = readLimit(headers, `${prefix}-limit`, `${prefix}-remaining`, `${prefix}-reset`, (value) =>
      timestampResetAt(value, now),
    );
    if (dimension) {
      state[key] = dimension;
      found = true;
    }
  }
  return found ? state : undefined;
}

function readLimit(
  headers: HeaderSource,
  limitName: string,
  remainingName: string,
  resetName: string,
  resetAt: (value: string) => number | undefined,
): UpstreamLimit | undefined {
  const remaining = count(headers.get(remainingName));
  if (remaining === undefined) return undefined;
  const dimension: UpstreamLimit = { remaining };
  const limit = count(headers.get(limitName));
  if (limit !== undefined) dimension.limit = limit;
  const reset = headers.get(resetName);
  const at = reset === null ? undefined : resetAt(reset.trim());
  if (at !== undefined) dimension.resetAt = at;
  return dimension;
}

function count(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  const parsed = Number(value);
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

const durationUnits: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000001,
};

/**
 * A Go duration (`6ms`, `1.5s`, `1m30s`, `2h0m0s`) or a bare number of seconds, as an absolute time; undefined
 * when unreadable. Rounded up to the millisecond so that a reset is never reported early.
 */
function durationResetAt(value: string, now: number): number | undefined {
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== value) return undefined;
    ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * (durationUnits[unit ?? ""] ?? Number.NaN), 0);
  }
  return Number.isFinite(ms) && ms <= maxResetMs ? now + Math.ceil(ms) : undefined;
}

function timestampResetAt(value: string, now: number): number | undefined {
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.min(at, now + maxResetMs);
}
