import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ProviderError, type ProviderErrorInit, type ProviderErrorKind } from "../provider-error.js";
import { retryAfterMs } from "../retry-after.js";
import { connectionErrorCode, isConnectionLoss, kindOfStatus, upstreamMessage } from "../upstream-failure.js";
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
      message: upstreamMessage(provider, message, context.secret),
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
  if (error instanceof APIConnectionError) return make("unavailable", `connection failed${codeDetail(error)}`);
  if (error instanceof APIError) {
    const message = providerMessage(error);
    const kind = apiErrorKind(error.status, error.code, error.type, message);
    return make(kind, message, {
      status: error.status,
      providerRequestId: openAIRequestId(error.headers) ?? error.requestID ?? context.providerRequestId,
      retryAfterMs: retryAfterMs(error.headers),
    });
  }
  if (isConnectionLoss(error)) return make("unavailable", `connection lost${codeDetail(error)}`);
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
  if (status === 503 && /overloaded/i.test(message)) return "overloaded";
  // A conflict OpenAI asks to retry (its SDK retries 409 too).
  if (status === 409) return "unavailable";
  return kindOfStatus(status) ?? (status >= 400 ? "invalid_request" : "internal");
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

/** " (ECONNRESET)": the connection failure's code, when the error names one. */
function codeDetail(error: unknown): string {
  const code = connectionErrorCode(error);
  return code === undefined ? "" : ` (${code})`;
}
