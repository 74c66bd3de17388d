import type { CallContext } from "../../providers/call-context.js";
import type { Provider, TokenUsage } from "../../providers/provider.js";
import type { UpstreamRateLimit } from "../../providers/upstream-rate-limit.js";
import { attemptPolicy, type AttemptHook } from "../attempt-policy.js";
import type { PolicyCall } from "../provider-policy.js";
import type { Reservation } from "./rate-limit-reservation.js";
import type { TokenEstimate, TokenEstimator } from "./tokens/token-estimator.js";

/**
 * What the policy takes admission from: a target's RateLimiter (which also learns from what the provider
 * reports), or a per-client limiter keyed by the call's client.
 */
export interface Admission {
  acquire(estimate: TokenEstimate, signal: AbortSignal, context?: CallContext): Promise<Reservation>;
  /** The provider's reported rate-limit state after an answer. */
  observe?(state: UpstreamRateLimit | undefined): void;
  /** A failed call, whose 429 retry delay holds further requests. */
  observeError?(error: unknown): void;
}

/** Options of withRateLimit. */
export interface RateLimitPolicyOptions {
  /**
   * The model whose tokenizer estimates requests, when the requests name something else (a route's model
   * name is not a provider model: the route-level client limit estimates with its first target's model).
   */
  estimateAs?: string;
  /**
   * The target's output limit per request (`maxOutputTokens`): a caller's `max_tokens` above it reserves only
   * this much, since the model cannot return more.
   */
  maxOutputTokens?: number;
}

/**
 * Wraps one provider target in its rate limiter: every call (every attempt, under retry) first reserves a
 * request and its estimated tokens, waiting in the limiter's queue when the target is at its limit, and
 * settles with the real usage once the answer is complete. A stream settles at its finish part; one that
 * fails, is cut or is abandoned by its consumer is charged its prompt and the output delivered so far, so a
 * stream never escapes the token limit. The rate-limit state each answer reports (and a 429's retry delay)
 * is fed back to the limiter, which then holds requests before the provider starts refusing them.
 */
export function withRateLimit(
  provider: Provider,
  limiter: Admission,
  estimator: TokenEstimator,
  options: RateLimitPolicyOptions = {},
): Provider {
  return attemptPolicy(provider, { hooks: [rateLimitHook(limiter, estimator, options)] });
}

/**
 * withRateLimit's part in an attempt: the reservation first (waiting in the limiter's queue), then settled
 * with the answer's usage, or charged as a cut call when the attempt fails or its consumer stops reading.
 */
export function rateLimitHook(
  limiter: Admission,
  estimator: TokenEstimator,
  options: RateLimitPolicyOptions = {},
): AttemptHook {
  const estimate = async (call: PolicyCall): Promise<TokenEstimate> => {
    const estimated = await estimateUncapped(call);
    const cap = options.maxOutputTokens;
    return cap === undefined || estimated.outputTokens <= cap ? estimated : { ...estimated, outputTokens: cap };
  };
  const estimateUncapped = (call: PolicyCall): Promise<TokenEstimate> => {
    const model = options.estimateAs ?? call.request.model;
    switch (call.operation) {
      case "chat":
        return estimator.chat({ ...call.request, model });
      case "text_completion":
        return estimator.completion({ ...call.request, model });
      case "embeddings":
        return estimator.embed({ ...call.request, model });
    }
  };
  /** Charges a call that ended without an answer for its prompt and the output it delivered. */
  const settleCut = async (
    reservation: Reservation,
    model: string,
    delivered: readonly string[],
    error: unknown,
  ): Promise<void> => {
    const counted = delivered.length === 0 ? 0 : await estimator.text(model, delivered.join("")).catch(() => 0);
    await reservation.settleFailure(error, Math.max(delivered.length, counted));
  };

  return {
    async begin(call, signal, context) {
      const reservation = await limiter.acquire(await estimate(call), signal, context);
      const model = options.estimateAs ?? call.request.model;
      const delivered: string[] = [];
      let settled = false;
      const settle = (usage: TokenUsage, rateLimit: UpstreamRateLimit | undefined): void => {
        settled = true;
        limiter.observe?.(rateLimit);
        void reservation.settle(usage);
      };
      return {
        part(part) {
          if (part.type === "delta") delivered.push(part.text);
          else settle(part.usage, part.rateLimit);
        },
        answer: (result) => settle(result.usage, result.rateLimit),
        fail(error) {
          limiter.observeError?.(error);
          settled = true;
          void settleCut(reservation, model, delivered, error);
        },
        end() {
          if (!settled) void settleCut(reservation, model, delivered, undefined);
        },
      };
    },
  };
}
