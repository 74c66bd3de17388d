import { createHash } from "node:crypto";
import type { RateLimitConfig, RateLimitingConfig } from "../../config/pipeline-schema.js";
import type { CallContext, CallerLimits } from "../../providers/call-context.js";
import { Reservation } from "./rate-limit-reservation.js";
import type { RateLimitStore } from "./rate-limit-store.js";
import { RateLimiter } from "./rate-limiter.js";
import type { TokenEstimate } from "./tokens/token-estimator.js";

/** What a ClientRateLimiter is built from. */
export interface ClientRateLimiterOptions {
  /** pipeline.rateLimiting: `perClient`, `clientOverrides` and `queue` are used. */
  config: RateLimitingConfig;
  store: RateLimitStore;
  /** The window the per-minute limits apply to. Default 60 000; tests use shorter ones. */
  windowMs?: number;
  /** Idle client limiters kept in memory before the oldest are dropped (their counts live in the store). */
  maxClients?: number;
  now?: () => number;
}

const defaultMaxClients = 10_000;

/** The limits of `own` that are set. */
function definedOf(own: CallerLimits): RateLimitConfig {
  return {
    ...(own.requestsPerMinute === undefined ? {} : { requestsPerMinute: own.requestsPerMinute }),
    ...(own.tokensPerMinute === undefined ? {} : { tokensPerMinute: own.tokensPerMinute }),
  };
}

/**
 * Per-client requests and tokens limits, applied by the gateway before routing: `clientOverrides[clientId]`
 * when set, else `perClient`. The anonymous client ("") and clients without limits are not limited (they get
 * a reservation that holds nothing). Reservation, settlement and the FIFO queue work as for a target (see
 * RateLimiter), with one queue per client, and errors of kind `queue_full` name no provider.
 *
 * Client ids may become API keys, so they never appear in store keys, traces or errors: a client is named
 * `client:` and the first 16 hex digits of the SHA-256 of its id.
 */
export class ClientRateLimiter {
  readonly #options: ClientRateLimiterOptions;
  readonly #limiters = new Map<string, RateLimiter>();

  constructor(options: ClientRateLimiterOptions) {
    this.#options = options;
  }

  /**
   * The limits that apply to a client; undefined when none does. A client key's own limits (`own`) win over
   * `clientOverrides`, which win over `perClient`; each limit left unset falls back to the next.
   */
  limitsFor(clientId: string, own?: CallerLimits): RateLimitConfig | undefined {
    if (clientId === "") return undefined;
    const overrides = this.#options.config.clientOverrides;
    const configured =
      (Object.hasOwn(overrides, clientId) ? overrides[clientId] : undefined) ?? this.#options.config.perClient;
    const limits =
      own === undefined || (own.requestsPerMinute === undefined && own.tokensPerMinute === undefined)
        ? configured
        : { ...configured, ...definedOf(own) };
    if (limits === undefined) return undefined;
    return limits.requestsPerMinute === undefined && limits.tokensPerMinute === undefined ? undefined : limits;
  }

  /**
   * Reserves one request and `estimate` for `clientId`, waiting in the client's queue while it is over its
   * limits. Fails with `queue_full` (with `retryAfterMs`) when the wait cannot fit the deadline, the maximum
   * wait or the queue, and with `cancelled` when `signal` aborts. The caller settles the reservation after the
   * call: `settle(usage)`, `settleFailure(error, deliveredOutputTokens)`, or `release()` when it made none.
   */
  acquire(clientId: string, estimate: TokenEstimate, signal: AbortSignal, context?: CallContext): Promise<Reservation> {
    const limiter = this.#limiter(clientId, context?.clientLimits);
    return limiter === undefined
      ? Promise.resolve(Reservation.none(estimate))
      : limiter.acquire(estimate, signal, context);
  }

  /** The client's limiter name as it shows in traces and errors: `client:` and a hash of its id. */
  static limiterName(clientId: string): string {
    return `client:${createHash("sha256").update(clientId).digest("hex").slice(0, 16)}`;
  }

  #limiter(clientId: string, own: CallerLimits | undefined): RateLimiter | undefined {
    const limits = this.limitsFor(clientId, own);
    if (limits === undefined) return undefined;
    let limiter = this.#limiters.get(clientId);
    if (limiter === undefined) {
      this.#evictIdle();
      const { config, store, windowMs, now } = this.#options;
      limiter = new RateLimiter({
        name: ClientRateLimiter.limiterName(clientId),
        provider: "",
        limits,
        store,
        queue: config.queue,
        ...(windowMs === undefined ? {} : { windowMs }),
        ...(now === undefined ? {} : { now }),
      });
    } else {
      this.#limiters.delete(clientId);
    }
    this.#limiters.set(clientId, limiter);
    return limiter;
  }

  /** Drops the least recently used limiters with nobody waiting, once there are too many. */
  #evictIdle(): void {
    const max = this.#options.maxClients ?? defaultMaxClients;
    if (this.#limiters.size < max) return;
    for (const [clientId, limiter] of this.#limiters) {
      if (this.#limiters.size < max) return;
      if (limiter.queued === 0) this.#limiters.delete(clientId);
    }
  }
}
