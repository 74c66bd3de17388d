/** Which tool drove a load row. */
export type DriverName = "wrk" | "h2load" | "node-http1" | "node-http2";

/** Latency percentiles of one run, in milliseconds. */
export interface LatencyMs {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

/** What one load run measured. */
export interface LoadResult {
  driver: DriverName;
  /** Requests that completed successfully during the measured window. */
  requests: number;
  /** Requests that failed (transport error or an error status). */
  errors: number;
  durationS: number;
  rps: number;
  latencyMs: LatencyMs;
}

/** The `p`-th percentile (0-100) of sorted values, nearest-rank. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Latency percentiles of a set of samples in milliseconds (the array is sorted in place). */
export function latencySummary(samples: Float64Array): LatencyMs {
  samples.sort();
  let total = 0;
  for (const value of samples) total += value;
  return {
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    mean: samples.length === 0 ? Number.NaN : total / samples.length,
  };
}

/** A growable list of latency samples without per-sample allocation. */
export class LatencySamples {
  #values = new Float64Array(1024);
  #length = 0;

  add(ms: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = ms;
  }

  get length(): number {
    return this.#length;
  }

  summary(): LatencyMs {
    return latencySummary(this.#values.slice(0, this.#length));
  }
}
