import type { RoutingConfig } from "../../config/pipeline-schema.js";
import type { ProviderType } from "../../config/provider-type.js";
import { detachedContext, type CallContext } from "../../providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { type AttemptHook, beginAll, watchedAnswer } from "../attempt-policy.js";
import type { PolicyCall } from "../provider-policy.js";
import { continuationRequests } from "./continuation-requests.js";
import { createLoadBalancer, type LoadBalancer } from "./load-balancer.js";
import { fallbackEvent, routeExhaustedError, shouldFallBack, type RouteFailure } from "./route-fallback.js";
import { circuitRefusal, isHealthy, servedBy, type RouteMember } from "./route-member.js";
import { routeStream } from "./stream-continuation.js";

/** What a route is built from. */
export interface RouteProviderOptions {
  /** The model name clients ask for. */
  name: string;
  /** The model's targets in config order; at least one. */
  members: readonly RouteMember[];
  /** The model's routing settings: strategy, fallback triggers, mid-stream behaviour. */
  routing: RoutingConfig;
  /** Default: a balancer of `routing.strategy`. */
  balancer?: LoadBalancer;
  /**
   * Hooks of the whole call, begun once before its first target whichever targets serve it (the per-client
   * rate limit): told the answer, or each part the consumer gets, the failure and the end, as a target's hooks
   * are told of an attempt.
   */
  hooks?: readonly AttemptHook[];
}

/**
 * The Provider of one model name: it spreads calls over the model's targets and falls back across them.
 * Each call's `request.model` is replaced by each target's own model. For each call:
 * - Order: the load balancer picks the first of the healthy targets (circuit letting calls through, health
 *   check not failed) and the other healthy ones follow in config order; unhealthy targets come last, in
 *   config order, as a last resort rather than never (a health check can be wrong; an open circuit fails at
 *   once without a call). When no target is healthy, all are tried in config order, open circuits failing
 *   fast with circuit_open, so the client gets the most informative error rather than a blind refusal.
 * - Fallback: on an error whose trigger is in `routing.fallbackOn` (see fallbackTrigger: never on the
 *   caller's invalid_request or cancel, nor past the deadline) the next target is tried and a `fallback`
 *   event is recorded. When all fail, routeExhaustedError chooses the error thrown.
 * - Streams: see routeStream (transparent fallback before the first delta, then `routing.midStream`); the
 *   order of the targets is planned when the stream is asked for, and the stream is routeStream's own.
 * - `context.trace.servedBy` is set to the target that answered.
 * The route feeds each member's TargetStats itself (in flight while a call runs, its latency to the answer or
 * to a stream's first part). Its `type` is its first target's.
 */
export class RouteProvider implements Provider {
  readonly name: string;
  readonly type: ProviderType;
  readonly #members: readonly RouteMember[];
  readonly #routing: RoutingConfig;
  readonly #balancer: LoadBalancer;
  readonly #hooks: readonly AttemptHook[];

  constructor(options: RouteProviderOptions) {
    const [first] = options.members;
    if (first === undefined) throw new Error(`model ${options.name}: a route needs at least one target`);
    this.name = options.name;
    this.type = first.provider.type;
    this.#members = options.members;
    this.#routing = options.routing;
    this.#balancer = options.balancer ?? createLoadBalancer(options.routing.strategy);
    this.#hooks = options.hooks ?? [];
  }

  /** The targets in the order one call would try them now (advances round-robin and weighted state). */
  plan(): RouteMember[] {
    const healthy: RouteMember[] = [];
    const unhealthy: RouteMember[] = [];
    for (const member of this.#members) (isHealthy(member) ? healthy : unhealthy).push(member);
    return healthy.length === 0 ? unhealthy : [...this.#balancer.order(healthy), ...unhealthy];
  }

  chat(request: ChatRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary({ operation: "chat", request, stream: false }, signal, context, (member, ctx) =>
      member.provider.chat({ ...request, model: member.model }, signal, ctx),
    );
  }

  complete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): Promise<GenerationResult> {
    return this.#unary({ operation: "text_completion", request, stream: false }, signal, context, (member, ctx) =>
      member.provider.complete({ ...request, model: member.model }, signal, ctx),
    );
  }

  embed(request: EmbedRequest, signal: AbortSignal, context?: CallContext): Promise<EmbedResult> {
    return this.#unary({ operation: "embeddings", request, stream: false }, signal, context, (member, ctx) =>
      member.provider.embed({ ...request, model: member.model }, signal, ctx),
    );
  }

  streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    const ctx = context ?? detachedContext();
    return routeStream({
      route: this.name,
      members: this.plan(),
      request,
      open: (member, routed) => member.provider.streamChat({ ...routed, model: member.model }, signal, ctx),
      continuation: continuationRequests.chat,
      routing: this.#routing,
      signal,
      context: ctx,
      hooks: this.#hooks,
      policyCall: { operation: "chat", request, stream: true },
    });
  }

  streamComplete(request: CompletionRequest, signal: AbortSignal, context?: CallContext): AsyncIterable<StreamPart> {
    const ctx = context ?? detachedContext();
    return routeStream({
      route: this.name,
      members: this.plan(),
      request,
      open: (member, routed) => member.provider.streamComplete({ ...routed, model: member.model }, signal, ctx),
      continuation: continuationRequests.completion,
      routing: this.#routing,
      signal,
      context: ctx,
      hooks: this.#hooks,
      policyCall: { operation: "text_completion", request, stream: true },
    });
  }

  async #unary<T extends GenerationResult | EmbedResult>(
    policyCall: PolicyCall,
    signal: AbortSignal,
    context: CallContext | undefined,
    call: (member: RouteMember, context: CallContext) => Promise<T>,
  ): Promise<T> {
    const ctx = context ?? detachedContext();
    if (this.#hooks.length === 0) return this.#fallingBack(signal, ctx, call);
    const watches = await beginAll(this.#hooks, policyCall, signal, ctx);
    return watchedAnswer(watches, () => this.#fallingBack(signal, ctx, call));
  }

  /** Tries the targets in planned order, falling back as `routing.fallbackOn` allows. */
  async #fallingBack<T>(
    signal: AbortSignal,
    ctx: CallContext,
    call: (member: RouteMember, context: CallContext) => Promise<T>,
  ): Promise<T> {
    const failures: RouteFailure[] = [];
    let last: { member: RouteMember; error: ProviderError } | undefined;
    for (const member of this.plan()) {
      if (last !== undefined) ctx.trace.record(fallbackEvent(last.member, member, last.error));
      try {
        const refusal = circuitRefusal(member);
        if (refusal !== undefined) throw refusal;
        const tracker = member.stats.begin();
        let result: T;
        try {
          result = await call(member, ctx);
        } catch (error) {
          tracker.end(error);
          throw error;
        }
        tracker.sample();
        tracker.end();
        ctx.trace.servedBy = servedBy(member);
        return result;
      } catch (error) {
        if (!(error instanceof ProviderError) || !shouldFallBack(error, this.#routing.fallbackOn, signal, ctx))
          throw error;
        failures.push({ provider: member.provider.name, model: member.model, error });
        last = { member, error };
      }
    }
    throw routeExhaustedError(this.name, failures);
  }
}
