import { ProviderError } from "../../providers/provider-error.js";

/** The outcome of one try to admit the request at the head of the queue. */
export type Attempt<T> = { admitted: true; value: T } | { admitted: false; retryAfterMs: number };

/** How a queue is built. `P` is what a waiting request asks for, `T` what admission gives it. */
export interface WaitQueueOptions<P, T> {
  /** Names the limiter in errors. */
  name: string;
  /** The provider named in errors ("" for a per-client limiter). */
  provider: string;
  /** Requests that may be queued at once; 0: none may wait, a request over the limit fails at once. */
  maxDepth: number;
  /** The longest a request may wait. */
  maxWaitMs: number;
  /** Tries to admit a request; called for the head only, one call at a time. */
  attempt(payload: P): Promise<Attempt<T>>;
  /**
   * How long at least until all of `payloads` (the last one being the request asking) could be admitted. A
   * request is failed at once only when this passes its deadline, so it should be optimistic (count on
   * refunds to come); an attempt's own `retryAfterMs` only schedules the next try.
   */
  estimateWaitMs(payloads: readonly P[]): number;
  /** Gives back what was admitted for a request that went away (cancelled or timed out) meanwhile. */
  discard(value: T): void;
  now?: () => number;
}

/** An admitted request, and whether and how long it waited (queued behind others or refused first). */
export interface Admitted<T> {
  value: T;
  waited: boolean;
  waitedMs: number;
}

interface Entry<P, T> {
  payload: P;
  deadline: number | undefined;
  enqueuedAt: number;
  /** When it stops waiting: its deadline or its maximum wait, whichever comes first. */
  expiresAt: number;
  /** False until an attempt for it failed or someone was ahead of it: it is then waiting. */
  waiting: boolean;
  settled: boolean;
  resolve(admitted: Admitted<T>): void;
  reject(error: ProviderError): void;
  cleanup(): void;
}

/**
 * A bounded FIFO of requests waiting for a limiter. Only the head is tried, so a large request at the head is
 * never starved by small ones behind it. A request that would wait past its deadline or the maximum wait, or
 * finds the queue full, fails at once with `queue_full` and `retryAfterMs` set to the estimated wait; one
 * still waiting when that time comes fails then. A cancelled request leaves at once with `cancelled`.
 */
export class WaitQueue<P, T> {
  readonly #options: WaitQueueOptions<P, T>;
  readonly #now: () => number;
  readonly #entries: Entry<P, T>[] = [];
  #pumping = false;
  #wakeAgain = false;
  #timer: NodeJS.Timeout | undefined;
  /** When the head is tried again after its last refusal: a waiting request's earliest sure chance. */
  #headRetryAt = 0;

  constructor(options: WaitQueueOptions<P, T>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Requests in the queue now, the one being tried included. */
  get depth(): number {
    return this.#entries.length;
  }

  /** Waits for `payload` to be admitted, FIFO behind those already waiting. */
  run(payload: P, signal: AbortSignal, deadline: number | undefined): Promise<Admitted<T>> {
    if (signal.aborted) return Promise.reject(this.#cancelled());
    const now = this.#now();
    const expiresAt = Math.min(deadline ?? Number.POSITIVE_INFINITY, now + this.#options.maxWaitMs);
    const ahead = this.#entries.length > 0;
    if (ahead) {
      const waitMs = this.#options.estimateWaitMs([...this.#entries.map((e) => e.payload), payload]);
      if (this.#entries.length >= this.#options.maxDepth)
        return Promise.reject(this.#full("the queue is full", waitMs));
      if (now + waitMs > expiresAt) return Promise.reject(this.#full(tooLong(waitMs, deadline, expiresAt), waitMs));
    }
    return new Promise<Admitted<T>>((resolve, reject) => {
      const entry: Entry<P, T> = {
        payload,
        deadline,
        enqueuedAt: now,
        expiresAt,
        waiting: ahead,
        settled: false,
        resolve,
        reject,
        cleanup: () => {},
      };
      const onAbort = (): void => this.#remove(entry, this.#cancelled());
      signal.addEventListener("abort", onAbort, { once: true });
      let expiry: NodeJS.Timeout | undefined;
      if (Number.isFinite(expiresAt)) {
        expiry = setTimeout(
          () => {
            const waitMs = Math.max(this.#estimateFor(entry), this.#headRetryAt - this.#now());
            this.#remove(entry, this.#full(tooLong(waitMs, deadline, expiresAt), waitMs));
          },
          Math.max(0, expiresAt - now),
        );
      }
      entry.cleanup = () => {
        signal.removeEventListener("abort", onAbort);
        clearTimeout(expiry);
      };
      this.#entries.push(entry);
      if (!ahead) this.wake();
    });
  }

  /** Capacity may have been freed (a refund): try the head again now instead of at its scheduled time. */
  wake(): void {
    if (this.#pumping) {
      this.#wakeAgain = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#entries.length > 0) void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (let head = this.#entries[0]; head !== undefined; head = this.#entries[0]) {
        this.#wakeAgain = false;
        let attempt: Attempt<T>;
        try {
          attempt = await this.#options.attempt(head.payload);
        } catch (error) {
          this.#remove(head, ProviderError.is(error) ? error : this.#internal(error));
          continue;
        }
        if (attempt.admitted) {
          if (head.settled) {
            this.#options.discard(attempt.value);
            continue;
          }
          const waitedMs = head.waiting ? Math.max(0, this.#now() - head.enqueuedAt) : 0;
          this.#settle(head, () => head.resolve({ value: attempt.value, waited: head.waiting, waitedMs }));
          continue;
        }
        if (head.settled) continue;
        if (!head.waiting && this.#options.maxDepth === 0) {
          const waitMs = Math.max(attempt.retryAfterMs, this.#options.estimateWaitMs([head.payload]));
          this.#remove(head, this.#full("no request may wait (queue depth 0)", waitMs));
          continue;
        }
        head.waiting = true;
        if (this.#wakeAgain) continue;
        this.#failHopeless();
        if (head.settled) continue;
        this.#headRetryAt = this.#now() + attempt.retryAfterMs;
        this.#timer = setTimeout(() => this.wake(), Math.max(1, attempt.retryAfterMs));
        return;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** After the head was refused, fails at once every request that cannot be admitted in time. */
  #failHopeless(): void {
    const now = this.#now();
    const payloads: P[] = [];
    for (const entry of [...this.#entries]) {
      payloads.push(entry.payload);
      const waitMs = this.#options.estimateWaitMs(payloads);
      if (now + waitMs > entry.expiresAt) {
        this.#remove(entry, this.#full(tooLong(waitMs, entry.deadline, entry.expiresAt), waitMs));
        payloads.pop();
      }
    }
  }

  #estimateFor(entry: Entry<P, T>): number {
    const index = this.#entries.indexOf(entry);
    const upTo = index === -1 ? this.#entries : this.#entries.slice(0, index + 1);
    return this.#options.estimateWaitMs(upTo.map((e) => e.payload));
  }

  /** Takes an entry out of the queue and fails it; the next request may then be admitted. */
  #remove(entry: Entry<P, T>, error: ProviderError): void {
    if (entry.settled) return;
    const wasHead = this.#entries[0] === entry;
    this.#settle(entry, () => entry.reject(error));
    if (wasHead && !this.#pumping) this.wake();
  }

  #settle(entry: Entry<P, T>, finish: () => void): void {
    entry.settled = true;
    entry.cleanup();
    const index = this.#entries.indexOf(entry);
    if (index !== -1) this.#entries.splice(index, 1);
    finish();
  }

  #full(reason: string, retryAfterMs: number): ProviderError {
    return new ProviderError({
      kind: "queue_full",
      provider: this.#options.provider,
      message: `${this.#options.name}: rate limit exceeded and ${reason}; retry in ${Math.ceil(retryAfterMs)} ms`,
      retryAfterMs: Math.ceil(retryAfterMs),
    });
  }

  #cancelled(): ProviderError {
    const message = `${this.#options.name}: cancelled while waiting for the rate limit`;
    return new ProviderError({ kind: "cancelled", provider: this.#options.provider, message });
  }

  #internal(error: unknown): ProviderError {
    const detail = error instanceof Error ? error.message : String(error);
    const message = `${this.#options.name}: rate limiter failed: ${detail}`;
    return new ProviderError({ kind: "internal", provider: this.#options.provider, message, cause: error });
  }
}

function tooLong(waitMs: number, deadline: number | undefined, expiresAt: number): string {
  const what = deadline !== undefined && deadline <= expiresAt ? "the deadline" : "the maximum queue wait";
  return `a wait of ${Math.ceil(waitMs)} ms would pass ${what}`;
}
