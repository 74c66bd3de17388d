import type { RateLimitConfig } from "../../config/pipeline-schema.js";
import type { CallContext } from "../../providers/call-context.js";
import { ProviderError } from "../../providers/provider-error.js";
import type { UpstreamRateLimit } from "../../providers/upstream-rate-limit.js";
import { Reservation } from "./rate-limit-reservation.js";
import type { RateLimitStore, RateLimitStoreState } from "./rate-limit-store.js";
import { RateLimitWindow, type WindowAdmission } from "./rate-limit-window.js";
import type { TokenEstimate } from "./tokens/token-estimator.js";
import { UpstreamHold } from "./upstream-hold.js";
import { WaitQueue, type Attempt } from "./wait-queue.js";

/** What a RateLimiter is built from. */
export interface RateLimiterOptions {
  /** Names the limiter in store keys, traces and errors: `target:azure-east`, `client:team-a`. */
  name: string;
  /** The provider named in its errors; "" for a per-client limiter. */
  provider: string;
  /** Requests and tokens per window; an absent limit is not enforced. */
  limits: RateLimitConfig;
  store: RateLimitStore;
  queue: { maxDepth: number; maxWaitMs: number };
  /** The window the limits apply to. Default 60 000 (per minute, as configured); tests use shorter ones. */
  windowMs?: number;
  /**
   * The longest a provider's 429 retry-after may hold requests (pipeline.retry.maxRetryAfterMs):
   * one 429 saying "retry after a day" must not stop a target for a day. Default 30 000.
   */
  maxHoldMs?: number;
  now?: () => number;
}

/** What a limiter has left, for health and ListProviders. */
export interface RateLimitHeadroom {
  /** Requests left in the current window; undefined without a request limit. */
  requests: number | undefined;
  tokens: number | undefined;
  /** Requests waiting in the queue. */
  queued: number;
  /** The provider's last reported state, less what was admitted since. */
  upstream: UpstreamRateLimit | undefined;
  /** Where the counters are kept now (Redis may be unreachable). */
  store: RateLimitStoreState;
}

/**
 * A requests-per-window and tokens-per-window limiter with reservation and settlement, over a sliding window
 * kept in a RateLimitStore (memory, or Redis shared by replicas). `acquire` reserves one request and the
 * estimated tokens (at most the token limit, so that every request can fit), waiting in a bounded FIFO
 * queue while the window is full or the provider's own reported limits (see `observe`) are exhausted; the
 * returned Reservation is settled with the real usage after the call.
 */
export class RateLimiter {
  readonly name: string;
  /** The configured limits (per window). */
  readonly limits: RateLimitConfig;
  readonly #requests: RateLimitWindow | undefined;
  readonly #tokens: RateLimitWindow | undefined;
  readonly #upstream: UpstreamHold;
  readonly #queue: WaitQueue<TokenEstimate, Reservation>;
  readonly #now: () => number;
  readonly #store: RateLimitStore;
  readonly #provider: string;
  /** Output allowances of this process's unsettled reservations: tokens that settlements may give back. */
  #refundable = 0;

  constructor(options: RateLimiterOptions) {
    this.name = options.name;
    this.limits = options.limits;
    this.#now = options.now ?? Date.now;
    this.#store = options.store;
    this.#provider = options.provider;
    this.#upstream = new UpstreamHold(options.maxHoldMs ?? 30_000);
    const windowMs = options.windowMs ?? 60_000;
    const { requestsPerMinute, tokensPerMinute } = options.limits;
    if (requestsPerMinute !== undefined) {
      this.#requests = new RateLimitWindow(options.store, `${options.name}:requests`, requestsPerMinute, windowMs);
    }
    if (tokensPerMinute !== undefined) {
      this.#tokens = new RateLimitWindow(options.store, `${options.name}:tokens`, tokensPerMinute, windowMs);
    }
    this.#queue = new WaitQueue<TokenEstimate, Reservation>({
      name: options.name,
      provider: options.provider,
      maxDepth: options.queue.maxDepth,
      maxWaitMs: options.queue.maxWaitMs,
      attempt: (estimate) => this.#attempt(estimate),
      estimateWaitMs: (estimates) => this.#estimateWaitMs(estimates),
      discard: (reservation) => void reservation.release(),
      now: this.#now,
    });
  }

  /**
   * Reserves capacity for one call, waiting (FIFO) while there is none. Fails with `queue_full` (and
   * `retryAfterMs`) when the queue is full or the wait would pass `context.deadline` or the maximum wait,
   * with `cancelled` when `signal` aborts first. A wait is recorded in `context.trace` as a `queued` event.
   * A prompt larger than the whole token limit fails at once, not retryable and with no retry delay: no wait
   * would ever admit it.
   */
  async acquire(estimate: TokenEstimate, signal: AbortSignal, context?: CallContext): Promise<Reservation> {
    const tokenLimit = this.#tokens?.limit;
    if (tokenLimit !== undefined && estimate.promptTokens > tokenLimit) throw this.#neverFits(estimate, tokenLimit);
    const { value, waited, waitedMs } = await this.#queue.run(estimate, signal, context?.deadline);
    if (waited) context?.trace.record({ type: "queued", limiter: this.name, waitedMs });
    return value;
  }

  /** Requests waiting in the queue now. */
  get queued(): number {
    return this.#queue.depth;
  }

  /** Takes the rate-limit state a provider reported with an answer. */
  observe(state: UpstreamRateLimit | undefined): void {
    if (state === undefined) return;
    this.#upstream.observe(state);
    this.#queue.wake();
  }

  /** Takes a failed call's error: a 429 with a retry delay holds every request until it passes. */
  observeError(error: unknown): void {
    if (ProviderError.is(error, "rate_limited") && error.retryAfterMs !== undefined && error.retryAfterMs > 0) {
      this.#upstream.block(error.retryAfterMs, this.#now());
    }
  }

  /** What is left now. */
  async headroom(): Promise<RateLimitHeadroom> {
    const now = this.#now();
    const left = async (window: RateLimitWindow | undefined) =>
      window === undefined ? undefined : Math.max(0, window.limit - (await window.used(now)));
    const [requests, tokens] = await Promise.all([left(this.#requests), left(this.#tokens)]);
    return { requests, tokens, queued: this.#queue.depth, upstream: this.#upstream.state, store: this.#store.state };
  }

  #neverFits(estimate: TokenEstimate, tokenLimit: number): ProviderError {
    return new ProviderError({
      kind: "queue_full",
      provider: this.#provider,
      retryable: false,
      message:
        `${this.name}: the prompt alone is about ${String(estimate.promptTokens)} tokens, more than its whole ` +
        `tokensPerMinute limit (${String(tokenLimit)}): it can never be admitted; shorten it or raise the limit`,
    });
  }

  #reservedTokens(estimate: TokenEstimate): number {
    if (this.#tokens === undefined) return 0;
    return Math.min(this.#tokens.limit, estimate.promptTokens + estimate.outputTokens);
  }

  async #attempt(estimate: TokenEstimate): Promise<Attempt<Reservation>> {
    const now = this.#now();
    const holdMs = this.#upstream.waitMs(estimate, now);
    if (holdMs > 0) return { admitted: false, retryAfterMs: holdMs };
    const tokens = this.#reservedTokens(estimate);
    const [requestAdmission, tokenAdmission] = await Promise.all([
      this.#requests?.tryAdd(1, now),
      this.#tokens?.tryAdd(tokens, now),
    ]);
    if (isRefused(requestAdmission) || isRefused(tokenAdmission)) {
      if (requestAdmission?.admitted) await this.#requests?.adjust(requestAdmission.bucket, -1, now);
      if (tokenAdmission?.admitted) await this.#tokens?.adjust(tokenAdmission.bucket, -tokens, now);
      return { admitted: false, retryAfterMs: Math.max(retryAfter(requestAdmission), retryAfter(tokenAdmission)) };
    }
    this.#upstream.admit(estimate);
    const requestBucket = bucketOf(requestAdmission);
    const tokenBucket = bucketOf(tokenAdmission);
    const refundable = Math.max(0, tokens - estimate.promptTokens);
    this.#refundable += refundable;
    const reservation = new Reservation(estimate, tokens, {
      correct: async (requests, tokenDelta) => {
        this.#refundable -= refundable;
        const at = this.#now();
        await Promise.all([
          requestBucket === undefined ? undefined : this.#requests?.adjust(requestBucket, requests, at),
          tokenBucket === undefined ? undefined : this.#tokens?.adjust(tokenBucket, tokenDelta, at),
        ]);
        if (requests < 0 || tokenDelta < 0) this.#queue.wake();
      },
    });
    return { admitted: true, value: reservation };
  }

  /**
   * The least time until `estimates` could all be admitted: the provider's hold on the first, and the window's
   * slide, counting on the output allowances of calls in flight coming back (most calls use far less than
   * their max tokens). A request is failed at once only when even that is too long.
   */
  #estimateWaitMs(estimates: readonly TokenEstimate[]): number {
    const now = this.#now();
    const first = estimates[0];
    const hold = first === undefined ? 0 : this.#upstream.waitMs(first, now);
    const tokens = estimates.reduce((sum, estimate) => sum + this.#reservedTokens(estimate), 0) - this.#refundable;
    const requestWait = this.#requests?.estimateWaitMs(estimates.length, now) ?? 0;
    const tokenWait = tokens > 0 ? (this.#tokens?.estimateWaitMs(tokens, now) ?? 0) : 0;
    return Math.max(hold, requestWait, tokenWait);
  }
}

function isRefused(admission: WindowAdmission | undefined): boolean {
  return admission !== undefined && !admission.admitted;
}

function bucketOf(admission: WindowAdmission | undefined): number | undefined {
  return admission?.admitted === true ? admission.bucket : undefined;
}

function retryAfter(admission: WindowAdmission | undefined): number {
  return admission !== undefined && !admission.admitted ? admission.retryAfterMs : 0;
}
