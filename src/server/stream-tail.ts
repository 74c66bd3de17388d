/** What an interceptor is told about the end of a response stream. Both methods are optional. */
export interface StreamTail {
  /** The stream failed with `error`: returns the error to pass on (the same one, or a mapped one). */
  fail?(error: unknown): unknown;
  /**
   * The stream is over, called once: it finished (`error` undefined), failed (with the error `fail` passed
   * on) or its consumer closed it (undefined; also before its first message).
   */
  end?(error: unknown): void;
}

/**
 * A response stream with the tails of the interceptors it passed through. Each interceptor that wants to see a
 * stream end adds its tail to the one stream instead of wrapping it in a generator of its own: the messages
 * pass one layer, however many interceptors watch them. Tails run innermost first (an error is mapped by the
 * error interceptor before the recorders outside it see it).
 */
class TailedStream<T> implements AsyncIterable<T> {
  readonly #messages: AsyncIterable<T>;
  readonly #tails: StreamTail[] = [];
  #ended = false;

  constructor(messages: AsyncIterable<T>) {
    this.#messages = messages;
  }

  add(tail: StreamTail): this {
    this.#tails.push(tail);
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const inner = this.#messages[Symbol.asyncIterator]();
    const passOn = (result: IteratorResult<T>): IteratorResult<T> => {
      if (result.done === true) this.#end(undefined);
      return result;
    };
    const failed = (error: unknown): never => {
      throw this.#fail(error);
    };
    return {
      next: () => inner.next().then(passOn, failed),
      return: async (value?: unknown): Promise<IteratorResult<T>> => {
        try {
          return (await inner.return?.(value)) ?? { done: true, value: undefined };
        } finally {
          this.#end(undefined);
        }
      },
      throw: async (error?: unknown): Promise<IteratorResult<T>> => {
        if (inner.throw === undefined) throw this.#fail(error);
        return inner.throw(error).then(passOn, failed);
      },
    };
  }

  #fail(error: unknown): unknown {
    if (this.#ended) return error;
    let passed = error;
    for (const tail of this.#tails) if (tail.fail) passed = tail.fail(passed);
    this.#end(passed);
    return passed;
  }

  #end(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const tail of this.#tails) tail.end?.(error);
  }
}

/**
 * `messages` with `tail` told how it ends. A stream already tailed by an inner interceptor gets the tail added
 * (no new layer); any other is wrapped once.
 */
export function withTail<T>(messages: AsyncIterable<T>, tail: StreamTail): AsyncIterable<T> {
  return (messages instanceof TailedStream ? messages : new TailedStream(messages)).add(tail);
}
