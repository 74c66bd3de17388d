/**
 * One upstream call's time limit. The SDK's own timeout stops at the response headers; this one also
 * covers reading the body or the whole stream, as `timeoutMs` in the provider config promises.
 * `signal` aborts when either the caller's signal or the deadline does; call `dispose()` when done.
 */
export class CallDeadline {
  readonly signal: AbortSignal;
  readonly #deadline = new AbortController();
  readonly #timer: NodeJS.Timeout;

  constructor(callerSignal: AbortSignal, timeoutMs: number) {
    this.#timer = setTimeout(() => this.#deadline.abort(), timeoutMs);
    this.#timer.unref();
    this.signal = AbortSignal.any([callerSignal, this.#deadline.signal]);
  }

  /** True once the time limit, not the caller, ended the call. */
  get passed(): boolean {
    return this.#deadline.signal.aborted;
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}
