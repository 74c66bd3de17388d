import type { UpstreamLimit, UpstreamRateLimit } from "../../providers/upstream-rate-limit.js";
import type { TokenEstimate } from "./tokens/token-estimator.js";

/** How long a limit reported exhausted without a reset time holds requests (Azure sends no reset headers). */
const unknownResetHoldMs = 1000;

type Dimension = "requests" | "tokens" | "inputTokens" | "outputTokens";
const dimensions: readonly Dimension[] = ["requests", "tokens", "inputTokens", "outputTokens"];

/**
 * What a provider said about its own limits, used to hold requests to it before it starts answering 429:
 * a request that the last reported `remaining` counts (less what was admitted since) cannot cover waits until
 * that limit's reset; a 429's retry-after holds every request until it passes. Kept per process: each replica
 * learns from the answers it gets.
 */
export class UpstreamHold {
  #state: UpstreamRateLimit | undefined;
  #blockedUntil = 0;
  readonly #maxHoldMs: number;

  /** `maxHoldMs`: the longest a 429's retry-after holds requests (reported window resets are not capped). */
  constructor(maxHoldMs: number) {
    this.#maxHoldMs = maxHoldMs;
  }

  /** Takes the state reported with an answer; an older report than the one held is ignored. */
  observe(state: UpstreamRateLimit | undefined): void {
    if (state === undefined) return;
    if (this.#state !== undefined && state.observedAt < this.#state.observedAt) return;
    this.#state = structuredClone(state);
  }

  /** Holds every request for `retryAfterMs` (a 429 answer's retry-after), at most `maxHoldMs`. */
  block(retryAfterMs: number, now: number): void {
    this.#blockedUntil = Math.max(this.#blockedUntil, now + Math.min(retryAfterMs, this.#maxHoldMs));
  }

  /** How long `demand` must wait for the provider's limits, 0 when it may go now. */
  waitMs(demand: TokenEstimate, now: number): number {
    let until = this.#blockedUntil;
    const state = this.#state;
    if (state !== undefined) {
      for (const dimension of dimensions) {
        const limit = state[dimension];
        if (limit === undefined) continue;
        const resetAt = limit.resetAt ?? state.observedAt + unknownResetHoldMs;
        if (resetAt > now && need(dimension, demand) > limit.remaining) until = Math.max(until, resetAt);
      }
    }
    return Math.max(0, until - now);
  }

  /** Counts an admitted request against the reported remaining counts, until the next report. */
  admit(demand: TokenEstimate): void {
    const state = this.#state;
    if (state === undefined) return;
    for (const dimension of dimensions) {
      const limit: UpstreamLimit | undefined = state[dimension];
      if (limit !== undefined) limit.remaining = Math.max(0, limit.remaining - need(dimension, demand));
    }
  }

  /** The last report, with the counts admitted since taken off. */
  get state(): UpstreamRateLimit | undefined {
    return this.#state;
  }
}

function need(dimension: Dimension, demand: TokenEstimate): number {
  switch (dimension) {
    case "requests":
      return 1;
    case "tokens":
      return demand.promptTokens + demand.outputTokens;
    case "inputTokens":
      return demand.promptTokens;
    case "outputTokens":
      return demand.outputTokens;
  }
}
