import type { ConnectError } from "@connectrpc/connect";
import { ProviderError } from "../providers/provider-error.js";
import { toConnectError } from "./error-codes.js";

/**
 * The bytes of request messages still arriving, over every connection and stream (`server.maxPendingRequestBytes`).
 * Each message is bounded by `server.maxRequestBytes`, but a request's bytes are held until the message is
 * whole, so without this many slow or unfinished requests (100 streams per connection, each one byte short of
 * the limit) hold `maxConcurrentStreams × maxRequestBytes` per connection. A request whose next bytes would pass
 * the budget is refused (RESOURCE_EXHAUSTED, retryable) and what it held is given back.
 */
export class PendingRequestBytes {
  readonly #max: number;
  #held = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** Takes `bytes` for a request whose message is still arriving; false (taking nothing) past the budget. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.#max) return false;
    this.#held += bytes;
    return true;
  }

  /** Gives back what a request held, once its message is whole or it ended. */
  release(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }

  /** The error of a request refused for the budget: the gateway is busy, so RESOURCE_EXHAUSTED, retryable. */
  refusal(): ConnectError {
    const message =
      `the gateway is holding its limit of ${String(this.#max)} bytes of requests still arriving ` +
      "(server.maxPendingRequestBytes); retry shortly";
    return toConnectError(new ProviderError({ kind: "queue_full", provider: "", message, retryable: true }));
  }
}
