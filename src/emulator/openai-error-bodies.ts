import type { ErrorAnswer, Problem, ProblemContext, RateLimitRejection } from "./error-bodies.js";
import { openAiDuration } from "./openai-duration.js";

/** OpenAI's error envelope. */
function openAiError(
  status: number,
  message: string,
  type: string | null,
  param: string | null,
  code: string | number | null,
): ErrorAnswer {
  return { status, body: { error: { message, type, param, code } } };
}

const badJsonMessage =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";
const missingKeyMessage =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";
const quotaMessage =
  "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.";
const overloadedMessage =
  "That model is currently overloaded with other requests. You can retry your request, or contact us through our help center at help.openai.com if the error persists.";

/** Renders a problem as OpenAI does. */
export function openAiErrorAnswer(problem: Problem, context: ProblemContext): ErrorAnswer {
  switch (problem.kind) {
    case "fault":
      return openAiFaultAnswer(problem.status, problem.errorCode, context);
    case "missing_key":
      return openAiError(401, missingKeyMessage, "invalid_request_error", null, null);
    case "invalid_key":
      return openAiError(
        401,
        `Incorrect API key provided: ${maskKey(problem.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        "invalid_request_error",
        null,
        "invalid_api_key",
      );
    case "unknown_path":
      return openAiError(404, `Invalid URL (${problem.method} ${problem.path})`, "invalid_request_error", null, null);
    case "missing_api_version":
    case "missing_version_header":
      return openAiError(404, "Resource not found", "invalid_request_error", null, null);
    case "bad_json":
      return openAiError(400, badJsonMessage, "invalid_request_error", null, null);
    case "bad_fault_header":
      return openAiError(
        400,
        `Invalid x-emulator-fault header: ${problem.message}`,
        "invalid_request_error",
        null,
        null,
      );
    case "invalid_request":
      return openAiError(400, problem.message, "invalid_request_error", problem.param ?? null, problem.code ?? null);
    case "context_length":
      return contextLengthAnswer(problem.limit, problem.promptTokens, context);
    case "rate_limited":
      return rateLimitAnswer(problem.rejection, context.model);
  }
}

function openAiFaultAnswer(status: number, errorCode: string | undefined, context: ProblemContext): ErrorAnswer {
  if (errorCode === "insufficient_quota")
    return openAiError(status, quotaMessage, "insufficient_quota", null, "insufficient_quota");
  if (errorCode === "context_length_exceeded") {
    return { ...contextLengthAnswer(context.contextWindow, context.contextWindow + 1, context), status };
  }
  if (errorCode === "content_filter") {
    return openAiError(
      status,
      "Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.",
      "invalid_request_error",
      null,
      "content_filter",
    );
  }
  switch (status) {
    case 401:
      return openAiErrorAnswer({ kind: "invalid_key", key: "sk-emulator-fault-key" }, context);
    case 403:
      return openAiError(
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        null,
        "unsupported_country_region_territory",
      );
    case 404:
      return openAiError(
        404,
        `The model \`${context.model}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        null,
        "model_not_found",
      );
    case 408:
      return openAiError(408, "Request timed out.", "timeout", null, null);
    case 429:
      return openAiError(
        429,
        `Rate limit reached for ${context.model} in organization org-emulator on requests per min (RPM): Limit 1, Used 1, Requested 1. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        "requests",
        null,
        "rate_limit_exceeded",
      );
    case 500:
      return openAiError(
        500,
        `The server had an error processing your request. Sorry about that! You can retry your request, or contact us through our help center at help.openai.com if you keep seeing this error. (Please include the request ID ${context.requestId} in your email.)`,
        "server_error",
        null,
        null,
      );
    case 502:
      return openAiError(502, "Bad gateway.", "cf_bad_gateway", null, 502);
    case 503:
    case 529:
      return openAiError(status, overloadedMessage, "server_error", null, null);
    default:
      return status >= 500
        ? openAiError(
            status,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            null,
            null,
          )
        : openAiError(status, "Invalid request.", "invalid_request_error", null, null);
  }
}

function contextLengthAnswer(limit: number, promptTokens: number, context: ProblemContext): ErrorAnswer {
  const what = context.operation === "chat" ? "messages" : "prompt";
  return openAiError(
    400,
    `This model's maximum context length is ${limit} tokens. However, your ${what} resulted in ${promptTokens} tokens. Please reduce the length of the ${what}.`,
    "invalid_request_error",
    context.operation === "chat" ? "messages" : context.operation === "embedding" ? "input" : "prompt",
    "context_length_exceeded",
  );
}

function rateLimitAnswer(rejection: RateLimitRejection, model: string): ErrorAnswer {
  const per = rejection.dimension === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
  return openAiError(
    429,
    `Rate limit reached for ${model} in organization org-emulator on ${per}: Limit ${rejection.limit}, Used ${rejection.used}, Requested ${rejection.requested}. Please try again in ${openAiDuration(rejection.retryAfterMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    rejection.dimension,
    null,
    "rate_limit_exceeded",
  );
}

/** The key as OpenAI quotes it back: its first 8 and last 4 characters, stars between. */
function maskKey(key: string): string {
  if (key.length <= 12) return "*".repeat(key.length);
  return `${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}`;
}
