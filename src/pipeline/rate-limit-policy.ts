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
  TokenUsage,
} from "../providers/provider.js";
import type { UpstreamRateLimit } from "../providers/upstream-rate-limit.js";
import type { Reservation } from "./rate-limit-reservation.js";
import type { TokenEstimate, TokenEstimator } from "./token-estimator.js";

/**
 * What the policy takes admission from: a target's RateLimiter (which also learns from what the provider
 * reports), or a per-client limiter keyed by the call's client.
 */
export interface Admission {
  acquire(estimate: TokenEstimate, signal: AbortSignal, context?: CallContext): Promise<Reservation>;
  /** The provider's reported rate-limit state after an answer. */
  observe?(state: UpstreamRateLimit | undefined): void;
  /** A failed call, whose 429 retry delay holds further requests. */
  observeError?(error: unknown): void;
}

/** Options of withRateLimit. */
export interface RateLimitPolicyOptions {
  /**
   * The model whose tokenizer estimates requests, when the requests name something else (a route's model
   * name is not a provider model: the route-level client limit estimates with its first target's model).
   */
  estimateAs?: string;
}

/**
 * Wraps one provider target in its rate limiter: every call (every attempt, under retry) first reserves a
 * request and its estimated tokens, waiting in the limiter's queue when the target is at its limit, and
 * settles with the real usage once the answer is complete. A stream settles at its finish part; one that
 * fails, is cut or is abandoned by its consumer is charged its prompt and the output delivered so far, so a
 * stream never escapes the token limit. The rate-limit state each answer reports (and a 429's retry delay)
 * is fed back to the limiter, which then holds requests before the provider starts refusing them.
 */
export function withRateLimit(provider: Provider, limiter: Admission, estimator: TokenEstimator, options: RateLimitPolicyOptions = {}): Provider {
  return new RateLimitedProvider(provider, limiter, estimator, options.estimateAs);
}

class RateLimitedProvider implements Provider {
  readonly name: string;
  readonly type: ProviderType;

  constructor(
    private readonly inner: Provider,
    private readonly limiter: Admission,
    private readonly estimator: TokenEstimator,
    private readonly estimateAs: string | undefined,
  ) {
    this.name = inner.name;
    this.type = inner.type;
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(() => this.estimator.chat(this.#forEstimate(request)), signal, context, () => this.inner.chat(request, signal, context));
  }

  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    const estimated = this.#forEstimate(request);
    return this.#stream(estimated.model, () => this.estimator.chat(estimated), signal, context, () =>
      this.inner.streamChat(request, signal, context),
    );
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary(() => this.estimator.completion(this.#forEstimate(request)), signal, context, () =>
      this.inner.complete(request, signal, context),
    );
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    const estimated = this.#forEstimate(request);
    return this.#stream(estimated.model, () => this.estimator.completion(estimated), signal, context, () =>
      this.inner.streamComplete(request, signal, context),
    );
  }

  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    return this.#unary(() => this.estimator.embed(this.#forEstimate(request)), signal, context, () => this.inner.embed(request, signal, context));
  }

  #forEstimate<R extends { model: string }>(request: R): R {
    return this.estimateAs === undefined ? request : { ...request, model: this.estimateAs };
  }

  async #unary<R extends { usage: TokenUsage; rateLimit?: UpstreamRateLimit }>(
    estimate: () => Promise<TokenEstimate>,
    signal: AbortSignal,
    context: CallContext | undefined,
    call: () => Promise<R>,
  ): Promise<R> {
    const reservation = await this.limiter.acquire(await estimate(), signal, context);
    try {
      const result = await call();
      this.limiter.observe?.(result.rateLimit);
      void reservation.settle(result.usage);
      return result;
    } catch (error) {
      this.limiter.observeError?.(error);
      void reservation.settleFailure(error);
      throw error;
    }
  }

  async *#stream(
    model: string,
    estimate: () => Promise<TokenEstimate>,
    signal: AbortSignal,
    context: CallContext | undefined,
    open: () => AsyncIterable<StreamPart>,
  ): AsyncGenerator<StreamPart, void, undefined> {
    const reservation = await this.limiter.acquire(await estimate(), signal, context);
    const delivered: string[] = [];
    let settling = false;
    try {
      for await (const part of open()) {
        if (part.type === "delta") {
          delivered.push(part.text);
        } else {
          settling = true;
          this.limiter.observe?.(part.rateLimit);
          void reservation.settle(part.usage);
        }
        yield part;
      }
    } catch (error) {
      this.limiter.observeError?.(error);
      settling = true;
      void this.#settleCut(reservation, model, delivered, error);
      throw error;
    } finally {
      if (!settling) void this.#settleCut(reservation, model, delivered, undefined);
    }
  }

  /** Charges a stream that ended without its finish part for its prompt and the output it delivered. */
  async #settleCut(reservation: Reservation, model: string, delivered: readonly string[], error: unknown): Promise<void> {
    const counted = delivered.length === 0 ? 0 : await this.estimator.text(model, delivered.join("")).catch(() => 0);
    await reservation.settleFailure(error, Math.max(delivered.length, counted));
  }
}
