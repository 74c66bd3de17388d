import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { ProviderError, type ProviderErrorKind } from "../provider-error.js";
import { type HeaderSource, retryAfterMs } from "../retry-after.js";
import { connectionErrorCode, isConnectionLoss, kindOfStatus, upstreamMessage } from "../upstream-failure.js";

const promptTooLong = /prompt is too long/i;
const retryHintKinds: ReadonlySet<ProviderErrorKind> = new Set(["overloaded", "unavailable", "timeout"]);

/**
 * Turns whatever an Anthropic SDK call threw into the one error type that leaves an adapter. The kind
 * comes from the HTTP status and Anthropic's `error.type`; an error event inside a stream (no status) is
 * read by its type alone. The message is the provider's own (never a header, never the key), prefixed
 * with the configured provider name. A caller's abort wins over everything else: the call was cancelled,
 * whatever the SDK made of the interrupted request.
 */
export function anthropicError(error: unknown, provider: string, signal?: AbortSignal, secret?: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (signal?.aborted === true || error instanceof APIUserAbortError) {
    return new ProviderError({ kind: "cancelled", provider, message: `${provider}: request cancelled`, cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new ProviderError({ kind: "timeout", provider, message: `${provider}: request timed out`, cause: error });
  }
  if (error instanceof APIConnectionError) {
    const code = connectionErrorCode(error);
    const reason = code === undefined ? "connection failed" : `connection failed (${code})`;
    return new ProviderError({ kind: "unavailable", provider, message: `${provider}: ${reason}`, cause: error });
  }
  if (error instanceof APIError) return fromApiError(error, provider, secret);
  if (isConnectionLoss(error)) {
    const message = `${provider}: connection lost while reading the response`;
    return new ProviderError({ kind: "unavailable", provider, message, cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new ProviderError({
    kind: "internal",
    provider,
    message: upstreamMessage(provider, detail, secret),
    cause: error,
  });
}

function fromApiError(error: APIError, provider: string, secret: string | undefined): ProviderError {
  const detail = error.apiMessage ?? error.message;
  const status = error.status;
  const kind =
    status === undefined
      ? (kindForType(error.type, detail) ?? "unavailable")
      : kindForStatus(status, error.type, detail);
  const providerRequestId =
    error.headers?.get("request-id") ?? bodyRequestId(error.error) ?? error.requestID ?? undefined;
  return new ProviderError({
    kind,
    provider,
    message: upstreamMessage(provider, detail, secret),
    status,
    providerRequestId,
    retryAfterMs: status === undefined ? undefined : waitHint(kind, error.headers),
    cause: error,
  });
}

/**
 * How long the answer asks to wait. Anthropic sends its rate-limit reset times on every answer, so they
 * count only for a rate limit; other retryable errors count only explicit retry-after headers, and errors
 * that retrying cannot fix carry no hint.
 */
function waitHint(kind: ProviderErrorKind, headers: HeaderSource | undefined): number | undefined {
  if (headers === undefined) return undefined;
  if (kind === "rate_limited") return retryAfterMs(headers);
  if (!retryHintKinds.has(kind)) return undefined;
  return retryAfterMs({ get: (name) => (name.startsWith("anthropic-ratelimit-") ? null : headers.get(name)) });
}

function kindForStatus(status: number, type: string | null, detail: string): ProviderErrorKind {
  if (type === "overloaded_error" && status !== 429) return "overloaded";
  if (status === 400 && promptTooLong.test(detail)) return "context_length";
  return kindOfStatus(status) ?? kindForType(type, detail) ?? "internal";
}

function kindForType(type: string | null, detail: string): ProviderErrorKind | undefined {
  switch (type) {
    case "overloaded_error":
      return "overloaded";
    case "rate_limit_error":
      return "rate_limited";
    case "api_error":
      return "unavailable";
    case "timeout_error":
      return "timeout";
    case "invalid_request_error":
      return promptTooLong.test(detail) ? "context_length" : "invalid_request";
    case "request_too_large":
      return "invalid_request";
    case "authentication_error":
    case "permission_error":
      return "auth";
    case "not_found_error":
      return "not_found";
    case "billing_error":
      return "quota_exceeded";
    default:
      return undefined;
  }
}

function bodyRequestId(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || !("request_id" in body)) return undefined;
  return typeof body.request_id === "string" ? body.request_id : undefined;
}
