/**
 * One upstream call's time limit. The SDK's own timeout stops at the response headers; this one also
 * covers reading the body or the whole stream, as `timeoutMs` in the provider config promises.
 * `signal` aborts when either the caller's signal or the deadline does; call `dispose()` when done.
 *
 * It links the two by hand rather than with `AbortSignal.any`: on Node 20 a signal from `AbortSignal.any` that
 * has an abort listener is kept alive until it aborts (Node's gcPersistentSignals), and the OpenAI SDK adds
 * one it never removes, so every call leaked its signal, listener and SDK controller (about 2 KB a call), and
 * `any` costs three times as much CPU as a plain controller.
 */
export class CallDeadline {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal;
  readonly #timer: NodeJS.Timeout;
  readonly #onCallerAbort = (): void => this.#controller.abort(this.#callerSignal.reason);
  #passed = false;

  constructor(callerSignal: AbortSignal, timeoutMs: number) {
    this.#callerSignal = callerSignal;
    this.signal = this.#controller.signal;
    this.#timer = setTimeout(() => {
      if (this.#controller.signal.aborted) return;
      this.#passed = true;
      this.#controller.abort();
    }, timeoutMs);
    this.#timer.unref();
    if (callerSignal.aborted) this.#controller.abort(callerSignal.reason);
    else callerSignal.addEventListener("abort", this.#onCallerAbort, { once: true });
  }

  /** True once the time limit, not the caller, ended the call. */
  get passed(): boolean {
    return this.#passed;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal.removeEventListener("abort", this.#onCallerAbort);
  }
}
