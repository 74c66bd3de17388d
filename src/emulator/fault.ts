/**
 * A misbehaviour the emulator injects into one exchange, so tests and benchmarks can reproduce provider
 * failures (errors, slowness, broken streams) on demand. Every field is optional; an empty fault is a
 * healthy answer. Chunk counts refer to content chunks (one token each); when a stream has fewer content
 * chunks than the count, the fault strikes after the last content chunk, before the closing events.
 */
export interface Fault {
  /** Answer with this HTTP error status and the API's real error body (400, 401, 403, 404, 408, 429, 500, 502, 503, 529). */
  status?: number;
  /**
   * Refines the answer: `insufficient_quota` (429 unless `status` says otherwise), `context_length_exceeded`
   * (400), `content_filter` (with status 400: Azure's content-filter body; without a status: a 200 answer whose
   * finish reason is `content_filter`, Anthropic's stop reason `refusal`).
   */
  errorCode?: string;
  /** Sent as the `retry-after` header, in seconds. */
  retryAfterSeconds?: number;
  /** Sent as the `retry-after-ms` header. */
  retryAfterMs?: number;
  /** Delay before the response headers. */
  latencyMs?: number;
  /** Streams: delay between the headers and the first content chunk. */
  ttftMs?: number;
  /** JSON answers: delay between the headers (sent at once) and the body, as a provider still generating does. */
  bodyDelayMs?: number;
  /** Streams: delay between chunks. */
  chunkDelayMs?: number;
  /** Streams: destroy the socket after this many content chunks, without a proper end. */
  dropAfterChunks?: number;
  /** Streams: after this many content chunks send the API's in-stream error event and end. */
  errorAfterChunks?: number;
  /** Streams: after this many content chunks end the response cleanly but without the closing events. */
  truncateAfterChunks?: number;
  /** Accept the request and never answer, until the client goes away or the emulator closes. */
  hang?: boolean;
  /**
   * Replaces the `message` of the error body an injected `status` answers with, as a provider whose error
   * message echoes part of the request (a header, a key) does.
   */
  errorMessage?: string;
  /**
   * Chat answers (JSON and streams) report this many of the prompt tokens as read from the provider's prompt
   * cache (at most the prompt's tokens): OpenAI and Azure as `usage.prompt_tokens_details.cached_tokens`, part
   * of `prompt_tokens`; Anthropic as `cache_read_input_tokens`, which Anthropic counts apart: `input_tokens`
   * is then the prompt's tokens less the cached and cache-written ones. The prompt's token count is unchanged.
   */
  cachedTokens?: number;
  /**
   * Anthropic answers report this many of the prompt tokens (at most those not already read from cache) as
   * written to the prompt cache: `cache_creation_input_tokens` and `cache_creation.ephemeral_5m_input_tokens`,
   * taken out of `input_tokens`. The OpenAI family reports no cache writes and ignores it.
   */
  cacheWriteTokens?: number;
}

type NumericFaultField = Exclude<keyof Fault, "errorCode" | "hang" | "errorMessage">;

const numericKeys: ReadonlyMap<string, NumericFaultField> = new Map([
  ["status", "status"],
  ["retry-after", "retryAfterSeconds"],
  ["retry-after-ms", "retryAfterMs"],
  ["latency", "latencyMs"],
  ["ttft", "ttftMs"],
  ["body-delay", "bodyDelayMs"],
  ["chunk-delay", "chunkDelayMs"],
  ["drop-after", "dropAfterChunks"],
  ["error-after", "errorAfterChunks"],
  ["truncate-after", "truncateAfterChunks"],
  ["cached-tokens", "cachedTokens"],
  ["cache-write-tokens", "cacheWriteTokens"],
]);

/**
 * Parses the `x-emulator-fault` header, for example
 * `"status=429;retry-after=2;latency=50;ttft=100;chunk-delay=5;drop-after=5;error-after=3;truncate-after=4;hang;code=insufficient_quota;retry-after-ms=1500"`,
 * or `"cached-tokens=128;cache-write-tokens=64"`, or `"status=502;message=upstream said: Bad gateway"` (a message
 * cannot hold a `;`).
 * Throws an Error naming the culprit on an unknown key or a bad value, so a typo in a test fails loudly
 * (the emulator answers it with a 400) instead of silently injecting nothing.
 */
export function parseFault(header: string): Fault {
  const fault: Fault = {};
  for (const rawPart of header.split(";")) {
    const part = rawPart.trim();
    if (part === "") continue;
    const equals = part.indexOf("=");
    const key = (equals === -1 ? part : part.slice(0, equals)).trim().toLowerCase();
    const value = equals === -1 ? undefined : part.slice(equals + 1).trim();
    if (key === "hang") {
      if (value !== undefined && value !== "true" && value !== "false") throw new Error(`bad value for hang: ${value}`);
      fault.hang = value !== "false";
      continue;
    }
    if (key === "code") {
      if (value === undefined || value === "") throw new Error("code needs a value");
      fault.errorCode = value;
      continue;
    }
    if (key === "message") {
      if (value === undefined || value === "") throw new Error("message needs a value");
      fault.errorMessage = value;
      continue;
    }
    const field = numericKeys.get(key);
    if (field === undefined) throw new Error(`unknown fault key: ${key}`);
    fault[field] = parseValue(key, value);
  }
  return fault;
}

function parseValue(key: string, value: string | undefined): number {
  const number = value === undefined || value === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(number) || number < 0) throw new Error(`bad value for ${key}: ${value ?? "(none)"}`);
  if (key === "status" && (!Number.isInteger(number) || number < 100 || number > 599)) {
    throw new Error(`bad status: ${value ?? "(none)"}`);
  }
  return number;
}
