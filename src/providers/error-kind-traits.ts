import { Code } from "@connectrpc/connect";
import type { FallbackTrigger } from "../config/pipeline-schema.js";
import type { ProviderErrorKind } from "./provider-error.js";

/** What one kind of ProviderError means to the pipeline and to the client. */
export interface ErrorKindTraits {
  /**
   * Trying the same call again later may succeed: the default of `ProviderError.retryable` (an error may
   * override it, as a stream cut after its content was delivered does). The retry policy retries only these.
   */
  readonly retryable: boolean;
  /**
   * Counts as a failure against the target's circuit breaker. The caller's own errors and the gateway's own
   * refusals are neutral: they say nothing about the target's health.
   */
  readonly breakerFailure: boolean;
  /**
   * The fallback trigger the kind falls under:
   * - a trigger's name (`circuit_open`, `context_length`, `content_filter`): that trigger;
   * - `retryable`: a fault of the target that retrying cannot fix but another target may not share (the
   *   gateway's key or credit there, the target's configuration, a broken answer, a saturated target queue);
   * - `if-retryable`: `retryable` (or `exhausted` once the retries gave up) while the error is retryable;
   * - `never`: the caller's own error, which another target would refuse (or lose) the same way.
   */
  readonly fallback: Exclude<FallbackTrigger, "exhausted"> | "if-retryable" | "never";
  /** The gRPC status code the client gets (`auth` is INTERNAL: the gateway's own key was refused). */
  readonly code: Code;
  /** The client is told the error's retry delay (ErrorDetail.retryAfterMs), when it carries one. */
  readonly retryHint: boolean;
}

/** A failure of the target that may pass: retried, counted by the breaker, falls back once not retried. */
const transient = (code: Code): ErrorKindTraits => ({
  retryable: true,
  breakerFailure: true,
  fallback: "if-retryable",
  code,
  retryHint: true,
});

/** A fault of the target that retrying cannot fix: counted by the breaker, falls back. */
const targetFault = (code: Code): ErrorKindTraits => ({
  retryable: false,
  breakerFailure: true,
  fallback: "retryable",
  code,
  retryHint: false,
});

/** Neither the target's health nor retried: the caller's own errors and the gateway's own refusals. */
const neutral = (code: Code, fallback: ErrorKindTraits["fallback"] = "never", retryHint = false): ErrorKindTraits => ({
  retryable: false,
  breakerFailure: false,
  fallback,
  code,
  retryHint,
});

/**
 * The one table of what each error kind means: retried or not, counted by the breaker or not, which fallback
 * trigger, which gRPC code, whether the client gets a retry delay. The retry policy, the circuit breaker, the
 * route's fallback and the server's error mapping all read it; no other place decides by kind.
 */
export const errorKindTraits: Readonly<Record<ProviderErrorKind, ErrorKindTraits>> = {
  rate_limited: transient(Code.ResourceExhausted),
  overloaded: transient(Code.Unavailable),
  unavailable: transient(Code.Unavailable),
  timeout: { ...transient(Code.DeadlineExceeded), retryHint: false },
  auth: targetFault(Code.Internal),
  quota_exceeded: targetFault(Code.ResourceExhausted),
  not_found: targetFault(Code.NotFound),
  internal: targetFault(Code.Internal),
  unsupported: { ...targetFault(Code.Unimplemented), breakerFailure: false },
  queue_full: { ...targetFault(Code.ResourceExhausted), breakerFailure: false, retryHint: true },
  circuit_open: neutral(Code.Unavailable, "circuit_open", true),
  context_length: neutral(Code.InvalidArgument, "context_length"),
  content_filter: neutral(Code.InvalidArgument, "content_filter"),
  invalid_request: neutral(Code.InvalidArgument),
  cancelled: neutral(Code.Canceled),
  unauthenticated: neutral(Code.Unauthenticated),
  permission_denied: neutral(Code.PermissionDenied),
  budget_exceeded: neutral(Code.ResourceExhausted, "never", true),
};
