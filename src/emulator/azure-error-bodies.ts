import type { ErrorAnswer, Problem, ProblemContext } from "./error-bodies.js";
import { openAiErrorAnswer } from "./openai-error-bodies.js";

function azureError(status: number, code: string, message: string): ErrorAnswer {
  return { status, body: { error: { code, message } } };
}

const invalidKeyMessage =
  "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.";
const missingKeyMessage =
  "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.";
const contentFilterMessage =
  "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766";

const operationNames = {
  chat: "ChatCompletions_Create",
  completion: "Completions_Create",
  embedding: "Embeddings_Create",
  models: "Models_List",
  messages: "ChatCompletions_Create",
} as const;

/**
 * Renders a problem as Azure OpenAI does: gateway-level errors (auth, routing, throttling) in Azure's
 * `{"error":{"code","message"}}` shape, model-level errors passed through in OpenAI's shape, and the
 * content-filter 400 with its `innererror`.
 */
export function azureErrorAnswer(problem: Problem, context: ProblemContext): ErrorAnswer {
  switch (problem.kind) {
    case "fault":
      return azureFaultAnswer(problem.status, problem.errorCode, context);
    case "missing_key":
      return azureError(401, "401", missingKeyMessage);
    case "invalid_key":
      return azureError(401, "401", invalidKeyMessage);
    case "unknown_path":
    case "missing_api_version":
    case "missing_version_header":
      return azureError(404, "404", "Resource not found");
    case "rate_limited": {
      const seconds = Math.max(1, Math.ceil(problem.rejection.retryAfterMs / 1000));
      return azureRateLimit(context, problem.rejection.dimension === "requests" ? "call" : "token", seconds);
    }
    default:
      return openAiErrorAnswer(problem, context);
  }
}

function azureRateLimit(context: ProblemContext, kind: "call" | "token", seconds: number): ErrorAnswer {
  return azureError(
    429,
    "429",
    `Requests to the ${operationNames[context.operation]} Operation under Azure OpenAI API version ${context.apiVersion} have exceeded ${kind} rate limit of your current OpenAI S0 pricing tier. Please retry after ${seconds} second${seconds === 1 ? "" : "s"}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
  );
}

function azureFaultAnswer(status: number, errorCode: string | undefined, context: ProblemContext): ErrorAnswer {
  if (errorCode === "content_filter") {
    return {
      status,
      body: {
        error: {
          message: contentFilterMessage,
          type: null,
          param: "prompt",
          code: "content_filter",
          status,
          innererror: {
            code: "ResponsibleAIPolicyViolation",
            content_filter_result: {
              hate: { filtered: false, severity: "safe" },
              self_harm: { filtered: false, severity: "safe" },
              sexual: { filtered: true, severity: "high" },
              violence: { filtered: false, severity: "safe" },
            },
          },
        },
      },
    };
  }
  if (errorCode !== undefined) return openAiErrorAnswer({ kind: "fault", status, errorCode }, context);
  switch (status) {
    case 401:
      return azureError(401, "401", invalidKeyMessage);
    case 403:
      return azureError(403, "403", "Access denied due to Virtual Network/Firewall rules.");
    case 404:
      return azureError(
        404,
        "DeploymentNotFound",
        "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
      );
    case 408:
      return azureError(408, "Timeout", "The operation was timeout.");
    case 429:
      return azureRateLimit(context, "call", 1);
    case 502:
      return azureError(502, "BadGateway", "Bad gateway.");
    case 503:
    case 529:
      return azureError(
        status,
        "ServiceUnavailable",
        "The service is temporarily unable to process your request. Please try again later.",
      );
    default:
      return openAiErrorAnswer({ kind: "fault", status, errorCode }, context);
  }
}
