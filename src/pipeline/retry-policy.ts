import type { RetryConfig } from "../config/pipeline-schema.js";
import type { ProviderType } from "../config/provider-type.js";
import type { CallContext } from "../providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";
import { abortableSleep } from "./abortable-sleep.js";
import { backoff } from "./backoff.js";
import type { RetryBudget } from "./retry-budget.js";

/** Injectable sources of time and randomness, for tests. */
export interface RetryOptions {
  /** The clock the context's deadline is compared with. Default Date.now. */
  now?: () => number;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** One call of the wrapped provider with the signal and context of the attempt. */
type Attempt<T> = (signal: AbortSignal, context: CallContext | undefined) => T;

/**
 * Wraps a provider (one target) so that retryable failures are tried again on it: up to `maxAttempts`
 * attempts per call, the first included, with exponential backoff and full jitter, waiting at least the
 * provider's retry-after. No retry when the error is not retryable (caller errors, auth, quota, open circuit,
 * full queue, cancel), when retry-after exceeds `maxRetryAfterMs` (the route had better fall back), when the
 * next attempt could not start before the context's deadline, or when the target's retry budget is spent:
 * the error is then thrown at once, as it came. The last error of `maxAttempts` failed attempts is thrown with
 * `retriesExhausted: true`. A stream is retried only until its first part reached the consumer; after that
 * its error passes through unchanged. The backoff sleep ends at once, as `cancelled`, when the signal aborts.
 * Each attempt is counted in `context.trace.attempts`, and each retry recorded as a `retry` event.
 */
export function withRetry(
  provider: Provider,
  config: RetryConfig,
  budget: RetryBudget,
  options: RetryOptions = {},
): Provider {
  return new RetryingProvider(provider, config, budget, options);
}

class RetryingProvider implements Provider {
  readonly name: string;
  readonly type: ProviderType;
  readonly #inner: Provider;
  readonly #config: RetryConfig;
  readonly #budget: RetryBudget;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(inner: Provider, config: RetryConfig, budget: RetryBudget, options: RetryOptions) {
    this.name = inner.name;
    this.type = inner.type;
    this.#inner = inner;
    this.#config = config;
    this.#budget = budget;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(request.model, signal, context, (s, c) => this.#inner.chat(request, s, c));
  }

  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream(request.model, signal, context, (s, c) => this.#inner.streamChat(request, s, c));
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(request.model, signal, context, (s, c) => this.#inner.complete(request, s, c));
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    return this.#stream(request.model, signal, context, (s, c) => this.#inner.streamComplete(request, s, c));
  }

  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    return this.#unary(request.model, signal, context, (s, c) => this.#inner.embed(request, s, c));
  }

  async #unary<T>(
    model: string,
    signal: AbortSignal,
    context: CallContext | undefined,
    call: Attempt<Promise<T>>,
  ): Promise<T> {
    this.#budget.deposit();
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(signal, context);
      } catch (error) {
        await this.#backOff(error, attempt, model, signal, context);
      }
    }
  }

  async *#stream(
    model: string,
    signal: AbortSignal,
    context: CallContext | undefined,
    open: Attempt<AsyncIterable<StreamPart>>,
  ): AsyncGenerator<StreamPart, void, undefined> {
    this.#budget.deposit();
    for (let attempt = 1; ; attempt++) {
      let delivered = false;
      try {
        for await (const part of open(signal, context)) {
          delivered = true;
          yield part;
        }
        return;
      } catch (error) {
        if (delivered) throw error;
        await this.#backOff(error, attempt, model, signal, context);
      }
    }
  }

  /**
   * Decides whether the failed attempt number `attempt` is retried: throws the error to give up, or records
   * the retry and sleeps its delay (throwing `cancelled` if the signal aborts meanwhile).
   */
  async #backOff(
    error: unknown,
    attempt: number,
    model: string,
    signal: AbortSignal,
    context: CallContext | undefined,
  ): Promise<void> {
    if (!(error instanceof ProviderError) || !error.retryable || signal.aborted) throw error;
    if (attempt >= this.#config.maxAttempts) throw error.with({ retriesExhausted: true });
    const retryAfterMs = error.retryAfterMs ?? 0;
    if (retryAfterMs > this.#config.maxRetryAfterMs) throw error;
    const delayMs = Math.max(retryAfterMs, backoff(attempt, this.#config, this.#random));
    const deadline = context?.deadline;
    if (deadline !== undefined && this.#now() + delayMs >= deadline) throw error;
    if (!this.#budget.tryWithdraw()) throw error;
    context?.trace.record({ type: "retry", provider: this.name, model, attempt, delayMs, reason: error.kind });
    try {
      await abortableSleep(delayMs, signal);
    } catch (sleepError) {
      throw new ProviderError({
        kind: "cancelled",
        provider: this.name,
        message: `${this.name}: the request was cancelled while waiting to retry`,
        cause: sleepError,
      });
    }
  }
}
