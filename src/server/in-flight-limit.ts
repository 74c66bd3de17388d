import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { withTail } from "./stream-tail.js";

/** Services outside the cap: health checks must answer when the gateway is busy (Watch has its own cap). */
const uncapped = new Set(["grpc.health.v1.Health"]);

/**
 * Caps the calls the server runs at once, over every service and protocol but health: a call past the cap
 * fails at once with RESOURCE_EXHAUSTED instead of taking memory, and a streaming call counts until its
 * response stream ends (finished, failed or cancelled by the client). Health calls are not counted, so that a
 * busy gateway still answers its probes and open Watch streams (which need no key) cannot fill the cap.
 */
export class InFlightLimit {
  readonly #max: number;
  #count = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Calls running now. */
  get count(): number {
    return this.#count;
  }

  /** The interceptor that counts calls; place it first so that it sees every call. */
  readonly interceptor: Interceptor = (next) => async (request) => {
    if (uncapped.has(request.service.typeName)) return next(request);
    if (this.#count >= this.#max) {
      throw new ConnectError(
        `the gateway is serving its limit of ${this.#max} concurrent calls (server.maxInFlightCalls); retry shortly`,
        Code.ResourceExhausted,
      );
    }
    this.#count += 1;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.#count -= 1;
    };
    try {
      const response = await next(request);
      if (!response.stream) {
        end();
        return response;
      }
      return { ...response, message: withTail(response.message, { end }) };
    } catch (error) {
      end();
      throw error;
    }
  };
}
