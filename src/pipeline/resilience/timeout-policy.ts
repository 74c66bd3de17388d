import type { TimeoutsConfig } from "../../config/pipeline-schema.js";
import { type CallContext, detachedContext } from "../../providers/call-context.js";
import type { Provider, StreamPart } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { providerPolicy } from "../provider-policy.js";

/** The time limits this policy enforces (connectMs belongs to the adapter's HTTP agent). */
type Limit = "firstTokenMs" | "idleMs" | "totalMs";

/**
 * Wraps a provider (one target) in its time limits: `firstTokenMs` until a unary answer's headers arrive (the
 * provider accepted the call; a later timeout is not retried, since it bills the abandoned call) or until the
 * first part of a stream, `idleMs` for each wait between stream parts, `totalMs` for the whole call,
 * stream included. When one passes, the upstream call is aborted (the inner provider gets a signal of its own,
 * chained to the caller's) and the call fails with a retryable `timeout` naming the limit and the provider, so
 * that a hung provider is abandoned and the route can try the next target. Waits for the consumer of a stream
 * do not count against `idleMs`, only waits for the provider. The caller's own cancel ends the call at once as
 * `cancelled`, never as a timeout. Without any of the three limits, the provider is returned as is.
 */
export function withTimeouts(provider: Provider, config: TimeoutsConfig): Provider {
  if (config.firstTokenMs === undefined && config.idleMs === undefined && config.totalMs === undefined) return provider;
  return timeLimits(provider, config);
}

function timeLimits(provider: Provider, config: TimeoutsConfig): Provider {
  return providerPolicy(provider, {
    async unary(_call, signal, context, invoke) {
      const clock = new CallClock(provider.name, signal);
      clock.startTotal(config.totalMs);
      // firstTokenMs ends when the answer's headers arrive (the provider accepted the call), reported by the
      // adapter's fetch through the context: calls outside an RPC (health checks) get a detached one for it.
      const inner: CallContext = { ...(context ?? detachedContext()), onResponseHeaders: () => clock.accepted() };
      try {
        return await clock.race(invoke(clock.signal, inner), "firstTokenMs", config.firstTokenMs);
      } finally {
        clock.dispose();
      }
    },

    async *stream(_call, signal, context, open) {
      const clock = new CallClock(provider.name, signal);
      clock.startTotal(config.totalMs);
      let iterator: AsyncIterator<StreamPart> | undefined;
      let waiting = false;
      let finished = false;
      try {
        iterator = open(clock.signal, context)[Symbol.asyncIterator]();
        for (let first = true; ; first = false) {
          const limit: Limit = first ? "firstTokenMs" : "idleMs";
          waiting = true;
          const next = await clock.race(iterator.next(), limit, config[limit]);
          waiting = false;
          if (next.done === true) {
            finished = true;
            return;
          }
          yield next.value;
        }
      } finally {
        clock.dispose();
        if (!finished) clock.abortUpstream();
        if (waiting) iterator?.return?.().catch(() => undefined);
        else await iterator?.return?.();
      }
    },
  });
}

/**
 * The timers of one call and the upstream signal they abort. A limit that passes aborts the upstream call and
 * settles the pending wait with the timeout error at once, even if the inner provider is slow to notice; the
 * caller's cancel does the same with `cancelled`.
 */
class CallClock {
  readonly #provider: string;
  readonly #callerSignal: AbortSignal;
  readonly #upstream = new AbortController();
  readonly #onCallerAbort = (): void => {
    this.#upstream.abort(this.#callerSignal.reason);
    this.#rejectWait?.(this.#cancelled());
  };
  #totalTimer: NodeJS.Timeout | undefined;
  /** The timer of the limit being waited for now (firstTokenMs or idleMs). */
  #limitTimer: NodeJS.Timeout | undefined;
  /** Whether the provider has accepted the call (its answer's headers arrived): a timeout then is not retried. */
  #accepted = false;
  #expired: ProviderError | undefined;
  #rejectWait: ((error: ProviderError) => void) | undefined;

  constructor(provider: string, callerSignal: AbortSignal) {
    this.#provider = provider;
    this.#callerSignal = callerSignal;
    if (callerSignal.aborted) this.#upstream.abort(callerSignal.reason);
    else callerSignal.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  /** The signal of the upstream call: aborts with the caller's or when a limit passes. */
  get signal(): AbortSignal {
    return this.#upstream.signal;
  }

  startTotal(ms: number | undefined): void {
    if (ms !== undefined) this.#totalTimer = setTimeout(() => this.#expire("totalMs", ms), ms);
  }

  /** Waits for `work`, failing with a timeout when `limit` (`ms`, if set) or the total limit passes first. */
  async race<T>(work: Promise<T>, limit: Limit, ms: number | undefined): Promise<T> {
    const settled = this.#expired ?? (this.#callerSignal.aborted ? this.#cancelled() : undefined);
    if (settled) {
      work.catch(() => undefined);
      throw settled;
    }
    this.#limitTimer = ms === undefined ? undefined : setTimeout(() => this.#expire(limit, ms), ms);
    const expiry = new Promise<never>((_, reject) => {
      this.#rejectWait = reject;
    });
    try {
      return await Promise.race([work, expiry]);
    } catch (error) {
      throw this.#expired ?? error;
    } finally {
      clearTimeout(this.#limitTimer);
      this.#limitTimer = undefined;
      this.#rejectWait = undefined;
      work.catch(() => undefined);
    }
  }

  /**
   * The provider accepted a unary call (its answer's headers arrived): `firstTokenMs` is over, only `totalMs`
   * still bounds the call, and a timeout now is not retried, since the provider bills the abandoned call.
   */
  accepted(): void {
    this.#accepted = true;
    clearTimeout(this.#limitTimer);
    this.#limitTimer = undefined;
  }

  /** Aborts the upstream call (a stream ended early by its consumer or by an error). */
  abortUpstream(): void {
    if (!this.#upstream.signal.aborted) this.#upstream.abort(new Error("the call ended"));
  }

  dispose(): void {
    clearTimeout(this.#totalTimer);
    this.#callerSignal.removeEventListener("abort", this.#onCallerAbort);
  }

  #cancelled(): ProviderError {
    const provider = this.#provider;
    return new ProviderError({ kind: "cancelled", provider, message: `${provider}: the request was cancelled` });
  }

  #expire(limit: Limit, ms: number): void {
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

const limitMeaning: Readonly<Record<Limit, string>> = {
  firstTokenMs: "time to the first token, or to a unary answer's headers",
  idleMs: "gap between stream parts",
  totalMs: "the whole call",
};
