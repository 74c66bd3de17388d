import type { RetryConfig } from "../../config/pipeline-schema.js";

/**
 * The wait before retry number `attempt` (1 after the first failed attempt) under exponential backoff with
 * full jitter: a uniformly random whole number of milliseconds in [0, min(maxDelayMs, baseDelayMs × 2^(attempt-1))).
 * Full jitter spreads the retries of many clients that failed together, so they do not come back in waves.
 * `random` returns a number in [0, 1), like Math.random, and is injectable for tests.
 */
export function backoff(
  attempt: number,
  config: Pick<RetryConfig, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.min(exponent, 52));
  const fraction = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(fraction * ceiling), Math.max(0, ceiling - 1));
}
