import type { RetryConfig } from "../../config/pipeline-schema.js";

/** Tokens the ratio bucket holds at most, unless the options say otherwise. */
const defaultMaxTokens = 10;
/** Token amounts are kept in thousandths, as integers, so that ten deposits of 0.1 make exactly one retry. */
const milli = 1000;

/** How a RetryBudget is built besides its config. */
export interface RetryBudgetOptions {
  /** The clock, in milliseconds; injectable for tests. Default Date.now. */
  now?: () => number;
  /**
   * The most retries a healthy period can save up for the next failure (default 10). Without a cap, hours of
   * successful traffic would bank thousands of retries that an outage would then spend at once.
   */
  maxTokens?: number;
}

/**
 * Retry throttling for one target, in the manner of gRPC's retry throttling and Finagle's RetryBudget: each
 * original request deposits `ratio` tokens (capped at `maxTokens`), each retry withdraws one, so retries add at
 * most `ratio` extra load however long an outage lasts. A floor of `minPerSecond` retries per second is always
 * allowed (a burst of one second's worth, at least one), so that a target with little traffic can still retry
 * a blip. The ratio bucket starts empty: a fresh process earns its retries like any other, and the floor
 * covers its first failures. Under a total outage of N requests, retries are thus at most
 * `N × ratio + minPerSecond × seconds + max(1, minPerSecond)`. A retry beyond the budget does not wait: the
 * caller fails at once and the route can fall back.
 */
export class RetryBudget {
  readonly #ratioMilli: number;
  readonly #maxMilli: number;
  /** Milliseconds between two floor retries; Infinity without a floor. */
  readonly #floorIntervalMs: number;
  readonly #floorBurst: number;
  readonly #now: () => number;
  #milliTokens = 0;
  /** The floor as a GCRA: the time at which the floor is fully used up; at or before now, it is full. */
  #floorTheoreticalAt: number;

  constructor(config: RetryConfig["budget"], options: RetryBudgetOptions = {}) {
    this.#ratioMilli = Math.round(config.ratio * milli);
    this.#maxMilli = Math.round((options.maxTokens ?? defaultMaxTokens) * milli);
    this.#floorIntervalMs = config.minPerSecond > 0 ? 1000 / config.minPerSecond : Number.POSITIVE_INFINITY;
    this.#floorBurst = config.minPerSecond > 0 ? Math.max(1, Math.floor(config.minPerSecond)) : 0;
    this.#now = options.now ?? Date.now;
    this.#floorTheoreticalAt = this.#now();
  }

  /** Counts one original request (not a retry): it earns `ratio` of a retry. */
  deposit(): void {
    this.#milliTokens = Math.min(this.#maxMilli, this.#milliTokens + this.#ratioMilli);
  }

  /** Takes one retry from the budget; false when none is left, and then the retry must not happen. */
  tryWithdraw(): boolean {
    if (this.#milliTokens >= milli) {
      this.#milliTokens -= milli;
      return true;
    }
    if (this.#floorBurst === 0) return false;
    const now = this.#now();
    const next = Math.max(this.#floorTheoreticalAt, now) + this.#floorIntervalMs;
    if (next - now > this.#floorBurst * this.#floorIntervalMs) return false;
    this.#floorTheoreticalAt = next;
    return true;
  }

  /** Retries that could be taken now, earned and floor together (for health reports and tests). */
  get available(): number {
    const earned = Math.floor(this.#milliTokens / milli);
    if (this.#floorBurst === 0) return earned;
    const now = this.#now();
    const used = (Math.max(this.#floorTheoreticalAt, now) - now) / this.#floorIntervalMs;
    return earned + Math.max(0, Math.floor(this.#floorBurst - used));
  }
}
