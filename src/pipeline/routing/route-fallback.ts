import type { FallbackTrigger } from "../../config/pipeline-schema.js";
import type { CallContext, PipelineEvent } from "../../providers/call-context.js";
import { errorKindTraits } from "../../providers/error-kind-traits.js";
import { ProviderError } from "../../providers/provider-error.js";
import type { RouteMember } from "./route-member.js";

/**
 * The fallback trigger an error falls under (errorKindTraits' `fallback`), or undefined for the errors that
 * never fall back: the caller's own, and failures the caller caused (a stream read too slowly).
 * - `circuit_open`, `context_length`, `content_filter`: the kind's own trigger;
 * - `exhausted`: a retryable error the retry policy gave up on after all its attempts (`retriesExhausted`);
 * - `retryable`: any other failure of the target: a retryable error the retries did not fix (retry-after too
 *   long, budget spent, or no retry policy), or a target fault that retrying cannot fix (notably `auth`, the
 *   provider refusing the gateway's key, is the target's fault, not the caller's).
 */
export function fallbackTrigger(error: ProviderError): FallbackTrigger | undefined {
  if (error.callerCaused) return undefined;
  const { fallback } = errorKindTraits[error.kind];
  if (fallback === "circuit_open" || fallback === "context_length" || fallback === "content_filter") return fallback;
  if (error.retriesExhausted) return "exhausted";
  if (error.retryable || fallback === "retryable") return "retryable";
  return undefined;
}

/**
 * Whether the next target should be tried after `error`: its trigger is in `fallbackOn` (an `exhausted`
 * error also falls back under `retryable`, which covers every retryable failure), the caller has not
 * cancelled, and its deadline has not passed.
 */
export function shouldFallBack(
  error: ProviderError,
  fallbackOn: readonly FallbackTrigger[],
  signal: AbortSignal,
  context: CallContext,
  now: () => number = Date.now,
): boolean {
  if (signal.aborted || (context.deadline !== undefined && now() >= context.deadline)) return false;
  const trigger = fallbackTrigger(error);
  if (trigger === undefined) return false;
  return fallbackOn.includes(trigger) || (trigger === "exhausted" && fallbackOn.includes("retryable"));
}

/** One target that failed during a routed call. */
export interface RouteFailure {
  provider: string;
  model: string;
  error: ProviderError;
}

/**
 * The error a route throws when every target it tried failed: the last failure that is not `circuit_open`
 * (the most recent real answer of a provider, which says most about the outage); when every target's circuit
 * was open, the one that reopens first, so the client's retry delay is the shortest. With more than one
 * failure its message is prefixed with a summary of all of them; kind, provider, status, retry-after and
 * request id stay those of the chosen error, so the client's gRPC status follows it.
 */
export function routeExhaustedError(route: string, failures: readonly RouteFailure[]): ProviderError {
  const real = failures.filter((failure) => failure.error.kind !== "circuit_open");
  const byReopening = [...failures].sort((a, b) => (a.error.retryAfterMs ?? 0) - (b.error.retryAfterMs ?? 0));
  const chosen = real.at(-1) ?? byReopening[0];
  if (chosen === undefined) {
    return new ProviderError({
      kind: "unavailable",
      provider: "",
      message: `model "${route}": no target could be tried`,
    });
  }
  if (failures.length === 1) return chosen.error;
  const summary = failures.map((failure) => `${failure.provider}/${failure.model}: ${failure.error.kind}`).join(", ");
  return chosen.error.with({
    message: `model "${route}": ${failures.length} targets failed (${summary}); ${chosen.error.message}`,
  });
}

/** The `fallback` event of moving from a failed target to the next one. */
export function fallbackEvent(from: RouteMember, to: RouteMember, error: ProviderError): PipelineEvent {
  return {
    type: "fallback",
    fromProvider: from.provider.name,
    fromModel: from.model,
    toProvider: to.provider.name,
    toModel: to.model,
    reason: error.kind,
  };
}
