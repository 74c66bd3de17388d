import type { ErrorAnswer, Problem, ProblemContext } from "./error-bodies.js";

function anthropicError(status: number, type: string, message: string, context: ProblemContext): ErrorAnswer {
  return { status, body: { type: "error", error: { type, message }, request_id: context.requestId } };
}

const creditMessage =
  "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.";

/** Anthropic's error type and default message per HTTP status. */
const statusErrors: ReadonlyMap<number, readonly [type: string, message: string]> = new Map([
  [400, ["invalid_request_error", "Invalid request."]],
  [401, ["authentication_error", "invalid x-api-key"]],
  [402, ["billing_error", creditMessage]],
  [403, ["permission_error", "Your API key does not have permission to use the specified resource."]],
  [404, ["not_found_error", "Not found"]],
  [408, ["timeout_error", "Request timed out."]],
  [413, ["request_too_large", "Request exceeds the maximum allowed number of bytes."]],
  [429, ["rate_limit_error", "This request would exceed your account's rate limit. Please try again later."]],
  [500, ["api_error", "Internal server error"]],
  [502, ["api_error", "Bad gateway"]],
  [503, ["overloaded_error", "Overloaded"]],
  [504, ["timeout_error", "Request timed out."]],
  [529, ["overloaded_error", "Overloaded"]],
]);

/** Renders a problem as Anthropic does: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function anthropicErrorAnswer(problem: Problem, context: ProblemContext): ErrorAnswer {
  switch (problem.kind) {
    case "fault":
      return anthropicFaultAnswer(problem.status, problem.errorCode, context);
    case "missing_key":
      return anthropicError(401, "authentication_error", "x-api-key header is required", context);
    case "invalid_key":
      return anthropicError(401, "authentication_error", "invalid x-api-key", context);
    case "unknown_path":
    case "missing_api_version":
      return anthropicError(404, "not_found_error", "Not Found", context);
    case "missing_version_header":
      return anthropicError(400, "invalid_request_error", "anthropic-version: header is required", context);
    case "bad_json":
      return anthropicError(
        400,
        "invalid_request_error",
        "There was an error parsing the body of your request: invalid JSON",
        context,
      );
    case "bad_fault_header":
      return anthropicError(
        400,
        "invalid_request_error",
        `Invalid x-emulator-fault header: ${problem.message}`,
        context,
      );
    case "invalid_request":
      return anthropicError(400, "invalid_request_error", problem.message, context);
    case "context_length":
      return contextLength(problem.promptTokens, problem.limit, 400, context);
    case "rate_limited": {
      const what = problem.rejection.dimension === "requests" ? "Number of requests" : "Number of request tokens";
      return anthropicError(
        429,
        "rate_limit_error",
        `${what} has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`,
        context,
      );
    }
  }
}

function contextLength(promptTokens: number, limit: number, status: number, context: ProblemContext): ErrorAnswer {
  return anthropicError(
    status,
    "invalid_request_error",
    `prompt is too long: ${promptTokens} tokens > ${limit} maximum`,
    context,
  );
}

function anthropicFaultAnswer(status: number, errorCode: string | undefined, context: ProblemContext): ErrorAnswer {
  const [type, message] =
    statusErrors.get(status) ??
    (status >= 500 ? ["api_error", "Internal server error"] : ["invalid_request_error", "Invalid request."]);
  if (errorCode === "context_length_exceeded")
    return contextLength(context.contextWindow + 1, context.contextWindow, status, context);
  if (errorCode === "insufficient_quota") return anthropicError(status, type, creditMessage, context);
  if (errorCode === "content_filter")
    return anthropicError(status, type, "Output blocked by content filtering policy", context);
  if (status === 404) return anthropicError(status, type, `model: ${context.model}`, context);
  return anthropicError(status, type, message, context);
}
