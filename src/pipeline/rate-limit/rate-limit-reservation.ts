import type { TokenUsage } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import type { TokenEstimate } from "./tokens/token-estimator.js";

/** Where a reservation's corrections go: the limiter that admitted it. */
export interface ReservationLedger {
  /** Adds `requests` and `tokens` (negative: gives back) to the windows the reservation was admitted in. */
  correct(requests: number, tokens: number): Promise<void>;
}

/**
 * Capacity a limiter admitted for one call: one request and `reservedTokens` (its prompt tokens and its
 * output allowance, at most the token limit). It must be settled exactly once, by one of:
 * - `settle(usage)` after a call that completed: the difference to the real usage is refunded or charged;
 * - `settleFailure(error, deliveredOutputTokens)` after a call that failed or was cut;
 * - `release()` when the call was never made: request and tokens are given back.
 * Later calls are ignored. The returned promises never reject: a store failure only loses the correction.
 */
export class Reservation {
  #settled = false;

  constructor(
    readonly estimate: TokenEstimate,
    /** Tokens taken from the window: the estimate, at most the token limit; 0 when tokens are not limited. */
    readonly reservedTokens: number,
    private readonly ledger: ReservationLedger | undefined,
  ) {}

  /** A reservation that holds nothing (no limit applies). */
  static none(estimate: TokenEstimate): Reservation {
    return new Reservation(estimate, 0, undefined);
  }

  /** True once settled or released. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Charges the call's real usage: refunds what was reserved beyond it, or charges what it used beyond. */
  settle(usage: Pick<TokenUsage, "totalTokens">): Promise<void> {
    return this.#finish(0, usage.totalTokens);
  }

  /**
   * Settles a call that failed. When nothing reached the provider (a `circuit_open` or `queue_full` below this
   * limiter), everything is given back; when the provider answered with an error status (a 4xx such as a
   * rejected request or a 429, or a 5xx), it did no generation: the tokens are given back and the request
   * stays counted; otherwise (a cut stream, a timeout, a cancel) the prompt and the output delivered so far
   * are charged, since the provider may have processed them.
   */
  settleFailure(error: unknown, deliveredOutputTokens = 0): Promise<void> {
    if (ProviderError.is(error, "circuit_open", "queue_full")) return this.release();
    if (ProviderError.is(error) && error.status !== undefined && deliveredOutputTokens === 0) return this.#finish(0, 0);
    return this.#finish(0, this.estimate.promptTokens + deliveredOutputTokens);
  }

  /** Gives back the request and all the reserved tokens: the call was not made. */
  release(): Promise<void> {
    return this.#finish(-1, 0);
  }

  async #finish(requests: number, usedTokens: number): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    if (this.ledger === undefined) return;
    try {
      await this.ledger.correct(requests, usedTokens - this.reservedTokens);
    } catch {
      // The window keeps the reservation as it was: conservative, and the window forgets it in time.
    }
  }
}
