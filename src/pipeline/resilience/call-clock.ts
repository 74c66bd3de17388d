import type { TimeoutsConfig } from "../../config/pipeline-schema.js";
import { ProviderError } from "../../providers/provider-error.js";

/** The time limits a CallClock enforces (connectMs belongs to the adapter's HTTP agent). */
export type TimeLimit = "firstTokenMs" | "idleMs" | "totalMs";

/**
 * The timers of one call and the upstream signal they abort. A limit that passes aborts the upstream call and
 * settles the pending wait with the timeout error at once, even if the inner provider is slow to notice; the
 * caller's cancel does the same with `cancelled`.
 */
export class CallClock {
  readonly #provider: string;
  readonly #callerSignal: AbortSignal;
  readonly #limits: TimeoutsConfig;
  readonly #upstream = new AbortController();
  readonly #onCallerAbort = (): void => {
    this.#upstream.abort(this.#callerSignal.reason);
    this.#rejectWait?.(this.#cancelled());
  };
  #totalTimer: NodeJS.Timeout | undefined;
  /**
   * One timer per waiting limit, made on its first wait and re-armed with `refresh()` for each later one (no
   * timer per streamed part). A timer is not stopped between waits: it fires for nothing when the consumer
   * holds the stream longer than its limit, and `#waitingFor` tells that firing from a real one.
   */
  #firstTokenTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The limit of the wait going on now; undefined between waits. */
  #waitingFor: Exclude<TimeLimit, "totalMs"> | undefined;
  /** Whether the provider has accepted the call (its answer's headers arrived): a timeout then is not retried. */
  #accepted = false;
  #expired: ProviderError | undefined;
  #rejectWait: ((error: ProviderError) => void) | undefined;

  /** Starts the call's `totalMs` now; `firstTokenMs` and `idleMs` run during each `race`. */
  constructor(provider: string, callerSignal: AbortSignal, limits: TimeoutsConfig) {
    this.#provider = provider;
    this.#callerSignal = callerSignal;
    this.#limits = limits;
    if (callerSignal.aborted) this.#upstream.abort(callerSignal.reason);
    else callerSignal.addEventListener("abort", this.#onCallerAbort, { once: true });
    const total = limits.totalMs;
    if (total !== undefined) this.#totalTimer = setTimeout(() => this.#expire("totalMs", total), total);
  }

  /** The signal of the upstream call: aborts with the caller's or when a limit passes. */
  get signal(): AbortSignal {
    return this.#upstream.signal;
  }

  /** Waits for `work`, failing with a timeout when `limit` (if configured) or the total limit passes first. */
  race<T>(work: Promise<T>, limit: Exclude<TimeLimit, "totalMs">): Promise<T> {
    const settled = this.#expired ?? (this.#callerSignal.aborted ? this.#cancelled() : undefined);
    if (settled) {
      work.catch(() => undefined);
      return Promise.reject(settled);
    }
    this.#arm(limit);
    return new Promise<T>((resolve, reject) => {
      this.#rejectWait = reject;
      work.then(
        (value) => {
          this.#endWait();
          resolve(value);
        },
        (error: unknown) => {
          this.#endWait();
          reject(this.#expired ?? error);
        },
      );
    });
  }

  /**
   * The provider accepted a unary call (its answer's headers arrived): `firstTokenMs` is over, only `totalMs`
   * still bounds the call, and a timeout now is not retried, since the provider bills the abandoned call.
   */
  accepted(): void {
    this.#accepted = true;
    clearTimeout(this.#firstTokenTimer);
    this.#firstTokenTimer = undefined;
  }

  /** Aborts the upstream call (a stream ended early by its consumer or by an error). */
  abortUpstream(): void {
    if (!this.#upstream.signal.aborted) this.#upstream.abort(new Error("the call ended"));
  }

  dispose(): void {
    clearTimeout(this.#totalTimer);
    clearTimeout(this.#firstTokenTimer);
    clearTimeout(this.#idleTimer);
    this.#callerSignal.removeEventListener("abort", this.#onCallerAbort);
  }

  /** Starts the wait's timer: made on the limit's first wait, re-armed after. */
  #arm(limit: Exclude<TimeLimit, "totalMs">): void {
    this.#waitingFor = limit;
    const ms = this.#limits[limit];
    if (ms === undefined) return;
    if (limit === "firstTokenMs") {
      if (this.#firstTokenTimer === undefined) this.#firstTokenTimer = setTimeout(this.#onFirstTokenTimer, ms);
      else this.#firstTokenTimer.refresh();
    } else if (this.#idleTimer === undefined) this.#idleTimer = setTimeout(this.#onIdleTimer, ms);
    else this.#idleTimer.refresh();
  }

  readonly #onFirstTokenTimer = (): void => this.#limitTimerFired("firstTokenMs");
  readonly #onIdleTimer = (): void => this.#limitTimerFired("idleMs");

  /** A limit's timer fired: the limit passed if its wait is still going on (else it is a leftover firing). */
  #limitTimerFired(limit: Exclude<TimeLimit, "totalMs">): void {
    const ms = this.#limits[limit];
    if (this.#waitingFor === limit && ms !== undefined) this.#expire(limit, ms);
  }

  #endWait(): void {
    this.#waitingFor = undefined;
    this.#rejectWait = undefined;
  }

  #cancelled(): ProviderError {
    const provider = this.#provider;
    return new ProviderError({ kind: "cancelled", provider, message: `${provider}: the request was cancelled` });
  }

  #expire(limit: TimeLimit, ms: number): void {
    if (this.#expired || this.#callerSignal.aborted) return;
    // The whole-call limit passing while the gateway was not waiting for the provider means a stream's reader
    // held it (a slow consumer): the caller's doing, not a sign of the provider's health, and not worth a retry.
    const callerCaused = limit === "totalMs" && this.#rejectWait === undefined;
    const accepted = this.#accepted ? "; the provider had accepted it, so it is not retried" : "";
    const error = new ProviderError({
      kind: "timeout",
      provider: this.#provider,
      message: callerCaused
        ? `${this.#provider}: the stream was not read to its end within ${ms} ms (totalMs: ${limitMeaning.totalMs}); the call was abandoned`
        : `${this.#provider}: timed out after ${ms} ms (${limit}: ${limitMeaning[limit]}); the call was abandoned${accepted}`,
      ...(callerCaused ? { callerCaused, retryable: false } : this.#accepted ? { retryable: false } : {}),
    });
    this.#expired = error;
    this.#rejectWait?.(error);
    this.#upstream.abort(error);
  }
}

const limitMeaning: Readonly<Record<TimeLimit, string>> = {
  firstTokenMs: "time to the first token, or to a unary answer's headers",
  idleMs: "gap between stream parts",
  totalMs: "the whole call",
};
