import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ProviderError, type ProviderErrorInit, type ProviderErrorKind } from "../provider-error.js";
import { retryAfterMs } from "../retry-after.js";
import { openAIRequestId } from "./openai-request-id.js";

/** What the adapter knows about a failed call besides the error itself. */
export interface OpenAIErrorContext {
  /** The configured provider name, put in the error and at the start of its message. */
  provider: string;
  /** The caller's signal: once it is aborted, whatever failed is a cancellation. */
  signal: AbortSignal;
  /** True when the adapter's own time limit for the call aborted it. */
  deadlinePassed?: boolean;
  /** Request id of an answer already received, for failures in the middle of a stream. */
  providerRequestId?: string;
  /** The API key, scrubbed from any message as a last line of defence. */
  secret?: string;
}

const maxMessageLength = 1000;

const networkErrorCodes = new Set([
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
 * The ProviderError for anything an OpenAI-family call threw: SDK API errors by status and
 * error code, connection failures, timeouts, cancellations, a socket cut while reading a body, and
 * in-stream error events. Its message is the provider's own error message prefixed with the provider
 * name, never a header value or the API key.
 */
export function openAIErrorToProviderError(error: unknown, context: OpenAIErrorContext): ProviderError {
  const { provider } = context;
  const make = (kind: ProviderErrorKind, message: string, extra: Partial<ProviderErrorInit> = {}): ProviderError =>
    new ProviderError({
      kind,
      provider,
      message: redact(`${provider}: ${message}`, context.secret),
      providerRequestId: context.providerRequestId,
      cause: error,
      ...extra,
    });

  if (context.signal.aborted) return make("cancelled", "the request was cancelled");
  if (context.deadlinePassed === true || error instanceof APIConnectionTimeoutError) {
    return make("timeout", "the request timed out");
  }
  if (error instanceof ProviderError) return error;
  if (error instanceof APIUserAbortError) return make("cancelled", "the request was cancelled");
  if (error instanceof APIConnectionError) return make("unavailable", `connection failed${networkDetail(error)}`);
  if (error instanceof APIError) {
    const message = providerMessage(error);
    const kind = apiErrorKind(error.status, error.code, error.type, message);
    return make(kind, message, {
      status: error.status,
      providerRequestId: openAIRequestId(error.headers) ?? error.requestID ?? context.providerRequestId,
      retryAfterMs: retryAfterMs(error.headers),
    });
  }
  if (isNetworkError(error)) return make("unavailable", `connection lost${networkDetail(error)}`);
  return make("internal", `unexpected failure: ${error instanceof Error ? error.message : String(error)}`);
}

function apiErrorKind(
  status: number | undefined,
  code: string | null | undefined,
  type: string | null | undefined,
  message: string,
): ProviderErrorKind {
  if (code === "insufficient_quota" || type === "insufficient_quota") return "quota_exceeded";
  if (code === "context_length_exceeded" || /maximum context length/i.test(message)) return "context_length";
  if (code === "content_filter") return "content_filter";
  return status === undefined ? streamErrorKind(code, type) : statusKind(status, message);
}

function statusKind(status: number, message: string): ProviderErrorKind {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "auth";
  if (status === 402) return "quota_exceeded";
  if (status === 404) return "not_found";
  if (status === 408) return "timeout";
  if (status === 409) return "unavailable";
  if (status === 529 || (status === 503 && /overloaded/i.test(message))) return "overloaded";
  if (status >= 500) return "unavailable";
  if (status >= 400) return "invalid_request";
  return "internal";
}

/** An error event inside a 200 stream carries no status: its type or code says what went wrong. */
function streamErrorKind(code: string | null | undefined, type: string | null | undefined): ProviderErrorKind {
  const names = [code, type].filter((n): n is string => typeof n === "string");
  const has = (...candidates: string[]): boolean => names.some((n) => candidates.includes(n));
  if (has("rate_limit_exceeded", "rate_limit_error", "tokens", "requests")) return "rate_limited";
  if (has("overloaded", "overloaded_error")) return "overloaded";
  if (has("invalid_api_key", "authentication_error", "permission_error")) return "auth";
  if (has("invalid_request_error")) return "invalid_request";
  if (has("timeout")) return "timeout";
  return "unavailable";
}

/** The provider's own message from the error body, or the SDK's status line when the body had none. */
function providerMessage(error: APIError): string {
  const body: unknown = error.error;
  if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
    return body.message;
  }
  return error.message;
}

/** Undici reports a cut socket as `TypeError: terminated` (or `fetch failed`) with a coded cause. */
function isNetworkError(error: unknown): boolean {
  return causeChain(error).some(
    (e) => e.message === "terminated" || e.message === "fetch failed" || networkCode(e) !== undefined,
  );
}

function networkDetail(error: unknown): string {
  const code = causeChain(error)
    .map(networkCode)
    .find((c) => c !== undefined);
  return code === undefined ? "" : ` (${code})`;
}

function networkCode(error: Error): string | undefined {
  const code = "code" in error ? error.code : undefined;
  if (typeof code !== "string") return undefined;
  return networkErrorCodes.has(code) || code.startsWith("UND_ERR_") ? code : undefined;
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

/** Scrubs the key and caps the length: an HTML error page from a proxy is no message. */
function redact(message: string, secret: string | undefined): string {
  const safe = secret === undefined || secret.length < 4 ? message : message.split(secret).join("[REDACTED]");
  return safe.length > maxMessageLength ? `${safe.slice(0, maxMessageLength)}…` : safe;
}
