import type { Admission } from "./rate-limit-window.js";
import type { ApiKind, Operation } from "./emulator.js";
import { openAiErrorAnswer } from "./openai-error-bodies.js";
import { azureErrorAnswer } from "./azure-error-bodies.js";
import { anthropicErrorAnswer } from "./anthropic-error-bodies.js";

/** A rejected admission, as the rate limiter reports it. */
export type RateLimitRejection = Extract<Admission, { admitted: false }>;

/** Why the emulator refuses a request, in API-neutral terms; each API renders it its own way. */
export type Problem =
  | { kind: "fault"; status: number; errorCode: string | undefined }
  | { kind: "missing_key" }
  | { kind: "invalid_key"; key: string }
  | { kind: "unknown_path"; method: string; path: string }
  | { kind: "missing_api_version" }
  | { kind: "missing_version_header" }
  | { kind: "bad_json" }
  | { kind: "bad_fault_header"; message: string }
  | { kind: "invalid_request"; message: string; param?: string | null; code?: string | null }
  | { kind: "context_length"; promptTokens: number; limit: number }
  | { kind: "rate_limited"; rejection: RateLimitRejection };

/** What the error messages of one exchange may mention. */
export interface ProblemContext {
  model: string;
  operation: Operation;
  requestId: string;
  contextWindow: number;
  /** Azure's `api-version` query parameter, or "" elsewhere. */
  apiVersion: string;
}

/** An error answer: its HTTP status and JSON body. */
export interface ErrorAnswer {
  status: number;
  body: unknown;
}

/**
 * Renders a problem as the given API really answers it: OpenAI `{"error":{message,type,param,code}}`,
 * Azure `{"error":{code,message,...}}` (OpenAI's shape for model errors, as Azure passes those through),
 * Anthropic `{"type":"error","error":{type,message},"request_id"}`.
 */
export function errorBodies(api: ApiKind, problem: Problem, context: ProblemContext): ErrorAnswer {
  switch (api) {
    case "openai":
      return openAiErrorAnswer(problem, context);
    case "azure":
      return azureErrorAnswer(problem, context);
    case "anthropic":
      return anthropicErrorAnswer(problem, context);
  }
}

const openAiStreamError =
  'data: {"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}\n\n';
const anthropicStreamError =
  'event: error\ndata: {"type":"error","error":{"details":null,"type":"overloaded_error","message":"Overloaded"}}\n\n';

/** The SSE frame each API sends when a stream fails midway (OpenAI and Azure alike; Anthropic `event: error`). */
export function streamErrorFrame(api: ApiKind): string {
  return api === "anthropic" ? anthropicStreamError : openAiStreamError;
}
