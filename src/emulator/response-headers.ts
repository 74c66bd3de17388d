import type { OutgoingHttpHeaders } from "node:http";
import type { ApiKind } from "./emulator.js";
import { openAiDuration } from "./openai-duration.js";
import type { RateLimitSnapshot } from "./rate-limit-window.js";
import { requestIds } from "./request-ids.js";

/** What the headers of one answer are built from. */
export interface HeaderInputs {
  api: ApiKind;
  status: number;
  contentType: string;
  requestId: string;
  rate: RateLimitSnapshot;
  now: number;
  /** When the request arrived, for `openai-processing-ms`. */
  startedAt: number;
  /** Azure: the deployment, for `x-ms-deployment-name`. */
  deployment: string;
}

/** JSON answers. */
export const jsonContentType = "application/json";
/** SSE answers, as OpenAI and Anthropic label them. */
export const sseContentType = "text/event-stream; charset=utf-8";

/**
 * The headers a real provider sends with every answer: request ids (OpenAI/Azure `x-request-id`, Azure also
 * `apim-request-id`, Anthropic `request-id`), rate-limit state (OpenAI/Azure `x-ratelimit-*` with Go-style
 * durations, Anthropic `anthropic-ratelimit-*` with RFC 3339 reset times) and the API's usual extras.
 */
export function responseHeaders(inputs: HeaderInputs): OutgoingHttpHeaders {
  const { rate } = inputs;
  if (inputs.api === "anthropic") {
    const headers: OutgoingHttpHeaders = {
      "content-type": inputs.contentType,
      "request-id": inputs.requestId,
      "anthropic-ratelimit-requests-limit": String(rate.requestsLimit),
      "anthropic-ratelimit-requests-remaining": String(rate.requestsRemaining),
      "anthropic-ratelimit-requests-reset": resetTime(inputs.now, rate.requestsResetMs),
      "anthropic-ratelimit-tokens-limit": String(rate.tokensLimit),
      "anthropic-ratelimit-tokens-remaining": String(rate.tokensRemaining),
      "anthropic-ratelimit-tokens-reset": resetTime(inputs.now, rate.tokensResetMs),
    };
    if (inputs.contentType === sseContentType) headers["cache-control"] = "no-cache";
    if (shouldRetry(inputs.status)) headers["x-should-retry"] = "true";
    return headers;
  }
  const headers: OutgoingHttpHeaders = {
    "content-type": inputs.contentType,
    "x-request-id": inputs.requestId,
    "x-ratelimit-limit-requests": String(rate.requestsLimit),
    "x-ratelimit-limit-tokens": String(rate.tokensLimit),
    "x-ratelimit-remaining-requests": String(rate.requestsRemaining),
    "x-ratelimit-remaining-tokens": String(rate.tokensRemaining),
    "x-ratelimit-reset-requests": openAiDuration(rate.requestsResetMs),
    "x-ratelimit-reset-tokens": openAiDuration(rate.tokensResetMs),
  };
  if (inputs.api === "azure") {
    headers["apim-request-id"] = requestIds.azure();
    headers["x-ms-region"] = "Emulator";
    headers["x-ms-rai-invoked"] = "true";
    headers["azureml-model-session"] = "emulator";
    if (inputs.deployment !== "") headers["x-ms-deployment-name"] = inputs.deployment;
  } else {
    headers["openai-version"] = "2020-10-01";
    headers["openai-organization"] = "org-emulator";
    headers["openai-processing-ms"] = String(Math.max(0, inputs.now - inputs.startedAt));
    headers["access-control-expose-headers"] = "X-Request-ID";
  }
  return headers;
}

function shouldRetry(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * An RFC 3339 timestamp without fractions, as Anthropic writes reset times (`2024-03-26T20:00:00Z`): rounded
 * up when there is something to wait for, down (so already past) when there is not.
 */
function resetTime(now: number, inMs: number): string {
  const seconds = inMs > 0 ? Math.ceil((now + inMs) / 1000) : Math.floor(now / 1000);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}
