import type { RetryConfig } from "../../config/pipeline-schema.js";
import type { Provider } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { abortableSleep } from "./abortable-sleep.js";
import { backoff } from "./backoff.js";
import { attemptPolicy, type Retrier } from "../attempt-policy.js";
import type { RetryBudget } from "./retry-budget.js";

/** Injectable sources of time and randomness, for tests. */
export interface RetryOptions {
  /** The clock the context's deadline is compared with. Default Date.now. */
  now?: () => number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Wraps a provider (one target) so that retryable failures are tried again on it: up to `maxAttempts`
 * attempts per call, the first included, with exponential backoff and full jitter, waiting at least the
 * provider's retry-after. No retry when the error is not retryable (caller errors, auth, quota, open circuit,
 * full queue, cancel), when retry-after exceeds `maxRetryAfterMs` (the route had better fall back), when the
 * next attempt could not start before the context's deadline, or when the target's retry budget is spent:
 * the error is then thrown at once, as it came. The last error of `maxAttempts` failed attempts is thrown with
 * `retriesExhausted: true`. A stream is retried only until its first part reached the consumer; after that
 * its error passes through unchanged. The backoff sleep ends at once, as `cancelled`, when the signal aborts.
 * Each retry is recorded as a `retry` event in the context's trace.
 */
export function withRetry(
  provider: Provider,
  config: RetryConfig,
  budget: RetryBudget,
  options: RetryOptions = {},
): Provider {
  return attemptPolicy(provider, { retry: retrier(provider.name, config, budget, options) });
}

/** The retry decisions of withRetry, for a target's attempt loop (attemptPolicy's `retry`). */
export function retrier(
  providerName: string,
  config: RetryConfig,
  budget: RetryBudget,
  options: RetryOptions = {},
): Retrier {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  return {
    deposit: () => budget.deposit(),
    async backOff(error, attempt, model, signal, context) {
      if (!(error instanceof ProviderError) || !error.retryable || signal.aborted) throw error;
      if (attempt >= config.maxAttempts) throw error.with({ retriesExhausted: true });
      const retryAfterMs = error.retryAfterMs ?? 0;
      if (retryAfterMs > config.maxRetryAfterMs) throw error;
      const delayMs = Math.max(retryAfterMs, backoff(attempt, config, random));
      const deadline = context?.deadline;
      if (deadline !== undefined && now() + delayMs >= deadline) throw error;
      if (!budget.tryWithdraw()) throw error;
      context?.trace.record({ type: "retry", provider: providerName, model, attempt, delayMs, reason: error.kind });
      try {
        await abortableSleep(delayMs, signal);
      } catch (sleepError) {
        throw new ProviderError({
          kind: "cancelled",
          provider: providerName,
          message: `${providerName}: the request was cancelled while waiting to retry`,
          cause: sleepError,
        });
      }
    },
  };
}
