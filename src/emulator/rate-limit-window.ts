/** Per-minute limits the emulator enforces, as providers do per API key. */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** What the rate-limit headers of one answer report. Reset times are in milliseconds from now. */
export interface RateLimitSnapshot {
  requestsLimit: number;
  requestsRemaining: number;
  requestsResetMs: number;
  tokensLimit: number;
  tokensRemaining: number;
  tokensResetMs: number;
}

/** The outcome of asking the window to admit one request. */
export type Admission =
  | { admitted: true; snapshot: RateLimitSnapshot }
  | {
      admitted: false;
      snapshot: RateLimitSnapshot;
      dimension: "requests" | "tokens";
      limit: number;
      used: number;
      requested: number;
      /** How long until the request would fit. */
      retryAfterMs: number;
    };

/** Limits reported when none is configured: large enough never to bind, and never enforced. */
const nominalRequests = 1_000_000;
const nominalTokens = 1_000_000_000;
const compactAfter = 4096;

/**
 * A sliding-window limiter: a request is admitted when, counting it, the requests and tokens admitted in
 * the last `windowMs` stay within the limits. Headers report the true remaining counts; the reset times are
 * when the window will be empty of what it holds now (zero for a dimension without a configured limit).
 * Entries live in two arrays consumed from a moving head, so admission is amortized O(1).
 */
export class RateLimitWindow {
  private times: number[] = [];
  private costs: number[] = [];
  private head = 0;
  private usedTokens = 0;

  constructor(
    private readonly limits: RateLimits = {},
    private readonly windowMs = 60_000,
  ) {}

  /** Admits a request costing `tokens` at time `now` (ms), or says why not and for how long. */
  admit(tokens: number, now: number): Admission {
    this.prune(now);
    const count = this.times.length - this.head;
    const requestLimit = this.limits.requestsPerMinute;
    if (requestLimit !== undefined && count + 1 > requestLimit) {
      const expiring = this.times[this.head + Math.max(0, count - requestLimit)] ?? now;
      return {
        admitted: false,
        snapshot: this.snapshotAfterPrune(now),
        dimension: "requests",
        limit: requestLimit,
        used: count,
        requested: 1,
        retryAfterMs: Math.max(1, expiring + this.windowMs - now),
      };
    }
    const tokenLimit = this.limits.tokensPerMinute;
    if (tokenLimit !== undefined && this.usedTokens + tokens > tokenLimit) {
      return {
        admitted: false,
        snapshot: this.snapshotAfterPrune(now),
        dimension: "tokens",
        limit: tokenLimit,
        used: this.usedTokens,
        requested: tokens,
        retryAfterMs: this.tokenWaitMs(tokens, tokenLimit, now),
      };
    }
    this.times.push(now);
    this.costs.push(tokens);
    this.usedTokens += tokens;
    return { admitted: true, snapshot: this.snapshotAfterPrune(now) };
  }

  /** The current state, without admitting anything. */
  snapshot(now: number): RateLimitSnapshot {
    this.prune(now);
    return this.snapshotAfterPrune(now);
  }

  /** Forgets every admitted request. */
  reset(): void {
    this.times = [];
    this.costs = [];
    this.head = 0;
    this.usedTokens = 0;
  }

  private snapshotAfterPrune(now: number): RateLimitSnapshot {
    const count = this.times.length - this.head;
    const newest = this.times[this.times.length - 1];
    const emptyInMs = newest === undefined ? 0 : Math.max(0, newest + this.windowMs - now);
    const requestsLimit = this.limits.requestsPerMinute ?? nominalRequests;
    const tokensLimit = this.limits.tokensPerMinute ?? nominalTokens;
    return {
      requestsLimit,
      requestsRemaining: Math.max(0, requestsLimit - count),
      requestsResetMs: this.limits.requestsPerMinute === undefined || count === 0 ? 0 : emptyInMs,
      tokensLimit,
      tokensRemaining: Math.max(0, tokensLimit - this.usedTokens),
      tokensResetMs: this.limits.tokensPerMinute === undefined || this.usedTokens === 0 ? 0 : emptyInMs,
    };
  }

  private tokenWaitMs(requested: number, limit: number, now: number): number {
    if (requested > limit) return this.windowMs;
    let remainingUse = this.usedTokens;
    for (let index = this.head; index < this.times.length; index++) {
      remainingUse -= this.costs[index] ?? 0;
      if (remainingUse + requested <= limit) {
        return Math.max(1, (this.times[index] ?? now) + this.windowMs - now);
      }
    }
    return this.windowMs;
  }

  private prune(now: number): void {
    const oldestKept = now - this.windowMs;
    while (this.head < this.times.length && (this.times[this.head] ?? now) <= oldestKept) {
      this.usedTokens -= this.costs[this.head] ?? 0;
      this.head++;
    }
    if (this.head > compactAfter && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.costs = this.costs.slice(this.head);
      this.head = 0;
    }
  }
}
