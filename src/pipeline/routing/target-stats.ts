import { ProviderError } from "../../providers/provider-error.js";

/** A target's load as ListProviders and the least-latency balancer see it. */
export interface TargetStatsSnapshot {
  /** Calls running on the target now (streams until they end). */
  inFlight: number;
  /** Exponentially weighted moving average of the target's latency, in ms; undefined before the first sample. */
  latencyEwmaMs: number | undefined;
}

/** How a TargetStats weighs new samples. */
export interface TargetStatsOptions {
  /** Weight of a new sample in the average, in (0, 1]. Default 0.3. */
  alpha?: number;
  /** Time source in ms; default `performance.now`. */
  now?: () => number;
}

const defaultAlpha = 0.3;

/**
 * In-flight count and latency EWMA of one target (provider + model). Latency is what a caller waits for the
 * answer to begin: a unary call's whole duration, a stream's time to its first part. Only calls that
 * answered and calls that timed out give samples (a timeout is latency, while a fast 500 says nothing of it);
 * failures are the circuit breaker's business.
 */
export class TargetStats {
  readonly #alpha: number;
  readonly #now: () => number;
  #inFlight = 0;
  #latency: number | undefined;

  constructor(options: TargetStatsOptions = {}) {
    this.#alpha = options.alpha ?? defaultAlpha;
    this.#now = options.now ?? (() => performance.now());
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get latencyEwmaMs(): number | undefined {
    return this.#latency;
  }

  /** Adds one latency sample to the average. */
  recordLatency(ms: number): void {
    this.#latency = this.#latency === undefined ? ms : this.#latency + this.#alpha * (ms - this.#latency);
  }

  /**
   * Counts a call as in flight and returns its tracker: `sample()` records the latency so far (once: a unary
   * answer, a stream's first part), `end(error?)` ends the call, sampling the latency of a timeout. Both are
   * idempotent.
   */
  begin(): CallTracker {
    const started = this.#now();
    let sampled = false;
    let ended = false;
    this.#inFlight++;
    const sample = (): void => {
      if (sampled) return;
      sampled = true;
      this.recordLatency(this.#now() - started);
    };
    return {
      sample,
      end: (error?: unknown) => {
        if (ended) return;
        ended = true;
        this.#inFlight--;
        if (ProviderError.is(error, "timeout")) sample();
      },
    };
  }

  snapshot(): TargetStatsSnapshot {
    return { inFlight: this.#inFlight, latencyEwmaMs: this.#latency };
  }
}

/** One call tracked by TargetStats.begin. */
export interface CallTracker {
  sample(): void;
  end(error?: unknown): void;
}
