import type { RateLimitStore } from "./rate-limit-store.js";

/** The outcome of trying to add to a window. */
export type WindowAdmission = { admitted: true; bucket: number } | { admitted: false; retryAfterMs: number };

/** Buckets per window: the window slides in steps of a tenth of its length. */
const defaultBuckets = 10;

/**
 * One limit (requests or tokens) over a sliding window of `windowMs`, kept as counters in a RateLimitStore so
 * that replicas share it. Time is cut into buckets of `windowMs / buckets`; an amount is admitted when the
 * current bucket plus the `buckets` before it, counting the new amount, stay within the limit. Those buckets
 * cover at least the last `windowMs` (up to one bucket more), so any window of `windowMs` holds at most
 * `limit`: unlike a fixed window, there is no burst of twice the limit across a window boundary, which is
 * how providers (sliding or continuously refilled limits) would answer 429 to a limit configured at theirs.
 *
 * Admission adds first and checks after, taking the amount back when over: concurrent admissions, in one
 * process or across replicas, can only be refused too often, never admitted over the limit.
 */
export class RateLimitWindow {
  readonly #bucketMs: number;
  readonly #ttlMs: number;
  /** Bucket values seen at the last admission or refusal (and corrected since), oldest first. */
  #lastSeen: { bucket: number; values: number[] } | undefined;

  constructor(
    private readonly store: RateLimitStore,
    private readonly key: string,
    readonly limit: number,
    readonly windowMs: number,
    private readonly buckets = defaultBuckets,
  ) {
    this.#bucketMs = Math.max(1, Math.floor(windowMs / buckets));
    this.#ttlMs = this.#bucketMs * (buckets + 2);
  }

  /** The bucket a time falls in. */
  bucketAt(now: number): number {
    return Math.floor(now / this.#bucketMs);
  }

  /** Adds `amount` (at most the limit) at `now` if the window has room for it. */
  async tryAdd(amount: number, now: number): Promise<WindowAdmission> {
    const bucket = this.bucketAt(now);
    const current = await this.store.add(this.#keyOf(bucket), amount, this.#ttlMs);
    const earlier = await this.store.read(this.#range(bucket - this.buckets, bucket - 1));
    const used = current + earlier.reduce((sum, value) => sum + value, 0);
    if (used <= this.limit) {
      this.#lastSeen = { bucket, values: [...earlier, current] };
      return { admitted: true, bucket };
    }
    await this.store.add(this.#keyOf(bucket), -amount, this.#ttlMs);
    const values = [...earlier, current - amount];
    this.#lastSeen = { bucket, values };
    return { admitted: false, retryAfterMs: this.#waitMs(values, bucket, amount, now) };
  }

  /**
   * Changes what `bucket` holds by `delta`: a settlement's refund (negative) or extra charge. A refund to a
   * bucket that has left the window is dropped (it no longer counts); an extra charge to one goes to the
   * current bucket instead, so tokens used late still count.
   */
  async adjust(bucket: number, delta: number, now: number): Promise<void> {
    if (delta === 0) return;
    const current = this.bucketAt(now);
    const inWindow = bucket >= current - this.buckets;
    if (delta < 0 && !inWindow) return;
    const target = inWindow ? bucket : current;
    const seen = this.#lastSeen;
    const index = seen === undefined ? -1 : target - (seen.bucket - this.buckets);
    if (seen !== undefined && index >= 0 && index < seen.values.length)
      seen.values[index] = (seen.values[index] ?? 0) + delta;
    await this.store.add(this.#keyOf(target), delta, this.#ttlMs);
  }

  /** What the window holds at `now`. */
  async used(now: number): Promise<number> {
    const bucket = this.bucketAt(now);
    const values = await this.store.read(this.#range(bucket - this.buckets, bucket));
    return values.reduce((sum, value) => sum + value, 0);
  }

  /**
   * How long until `amount` more would fit, from the values seen at the last try (0 before any): an estimate
   * that ignores what other replicas did since. An amount over what one window holds counts whole windows.
   */
  estimateWaitMs(amount: number, now: number): number {
    const seen = this.#lastSeen;
    if (seen === undefined) return amount <= this.limit ? 0 : this.windowMs * Math.floor(amount / this.limit);
    const extraWindows = Math.floor(Math.max(0, amount - 1) / this.limit);
    const rest = amount - extraWindows * this.limit;
    return extraWindows * this.windowMs + this.#waitMs(seen.values, seen.bucket, rest, now);
  }

  /** `values` are buckets `bucket - buckets` to `bucket`; at bucket `bucket + j` the first `j` have left. */
  #waitMs(values: readonly number[], bucket: number, amount: number, now: number): number {
    const first = Math.max(0, this.bucketAt(now) - bucket);
    let held = values.slice(first).reduce((sum, value) => sum + value, 0);
    for (let j = first; j < values.length; j++) {
      if (held + amount <= this.limit) return Math.max(0, (bucket + j) * this.#bucketMs - now);
      held -= values[j] ?? 0;
    }
    return Math.max(0, (bucket + values.length) * this.#bucketMs - now);
  }

  #range(from: number, to: number): string[] {
    const keys: string[] = [];
    for (let bucket = from; bucket <= to; bucket++) keys.push(this.#keyOf(bucket));
    return keys;
  }

  #keyOf(bucket: number): string {
    return `${this.key}:${bucket}`;
  }
}
