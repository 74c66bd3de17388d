import type { ProviderType } from "../config/provider-type.js";
import type {
  ChatRequest,
  CompletionRequest,
  EmbedRequest,
  EmbedResult,
  GenerationResult,
  StreamPart,
  TokenUsage,
} from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";
import type { PriceTable } from "../usage/price-table.js";
import type { ModelRouter, RouteTarget } from "./model-router.js";

/** What the server knows of the call a request belongs to. */
export interface GatewayCall {
  /** The gateway's id for the request, returned in metadata and logs. */
  requestId: string;
  /** Aborts when the client cancels or its deadline passes. */
  signal: AbortSignal;
  /** The caller's free-form tags. */
  metadata: Readonly<Record<string, string>>;
  /** When the client's deadline passes (Date.now() ms); undefined when it set none. */
  deadline: number | undefined;
  /** The caller's identity for per-client limits; "" when unknown. */
  clientId: string;
}

/** How a request was served: the metadata every response carries. */
export interface ServedMetadata {
  provider: string;
  providerType: ProviderType;
  /** The model that answered, as the provider reported it. */
  model: string;
  latencyMs: number;
  attempts: number;
  requestId: string;
  providerRequestId: string | undefined;
  costMicros: bigint;
  costUnknown: boolean;
}

/** A unary generation with its serving metadata. */
export type GatewayGeneration = GenerationResult & { metadata: ServedMetadata };
/** An embedding result with its serving metadata. */
export type GatewayEmbedding = EmbedResult & { metadata: ServedMetadata };
/** A streamed part; the finish part carries the serving metadata. */
export type GatewayStreamPart = Extract<StreamPart, { type: "delta" }> | (Extract<StreamPart, { type: "finish" }> & { metadata: ServedMetadata });

/** A request as the client sent it, before its model name is resolved to a provider's model. */
type Unrouted<T> = Omit<T, "model">;

/**
 * The entry point of the provider layer for the RPC handlers: resolves a model name to its targets, calls
 * through the provider (which the pipeline has wrapped in its policies), and adds cost and metadata.
 */
export class Gateway {
  constructor(
    readonly router: ModelRouter,
    private readonly prices: PriceTable,
  ) {}

  chat(model: string, request: Unrouted<ChatRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, (target) => target.provider.chat({ ...request, model: target.model }, call.signal));
  }

  complete(model: string, request: Unrouted<CompletionRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, (target) => target.provider.complete({ ...request, model: target.model }, call.signal));
  }

  async embed(model: string, request: Unrouted<EmbedRequest>, call: GatewayCall): Promise<GatewayEmbedding> {
    return this.#unary(model, call, (target) => target.provider.embed({ ...request, model: target.model }, call.signal));
  }

  streamChat(model: string, request: Unrouted<ChatRequest>, call: GatewayCall): AsyncIterable<GatewayStreamPart> {
    return this.#stream(model, call, (target) => target.provider.streamChat({ ...request, model: target.model }, call.signal));
  }

  streamComplete(model: string, request: Unrouted<CompletionRequest>, call: GatewayCall): AsyncIterable<GatewayStreamPart> {
    return this.#stream(model, call, (target) =>
      target.provider.streamComplete({ ...request, model: target.model }, call.signal),
    );
  }

  async #unary<R extends { usage: TokenUsage; model: string; providerRequestId?: string | undefined }>(
    model: string,
    call: GatewayCall,
    invoke: (target: RouteTarget) => Promise<R>,
  ): Promise<R & { metadata: ServedMetadata }> {
    const started = performance.now();
    const target = this.#target(model);
    const result = await invoke(target);
    return { ...result, metadata: this.#metadata(target, result, call, started) };
  }

  async *#stream(
    model: string,
    call: GatewayCall,
    open: (target: RouteTarget) => AsyncIterable<StreamPart>,
  ): AsyncGenerator<GatewayStreamPart> {
    const started = performance.now();
    const target = this.#target(model);
    for await (const part of open(target)) {
      if (part.type === "delta") {
        yield part;
      } else {
        yield { ...part, metadata: this.#metadata(target, part, call, started) };
        return;
      }
    }
    throw new ProviderError({
      kind: "unavailable",
      provider: target.provider.name,
      message: `${target.provider.name}: stream ended before it completed`,
    });
  }

  #target(model: string): RouteTarget {
    const [first] = this.router.resolve(model).targets;
    if (!first) throw new ProviderError({ kind: "not_found", provider: "", message: `model "${model}" has no targets` });
    return first;
  }

  #metadata(
    target: RouteTarget,
    result: { usage: TokenUsage; model: string; providerRequestId?: string | undefined },
    call: GatewayCall,
    started: number,
  ): ServedMetadata {
    const cost = this.prices.cost(target.provider.type, [result.model, target.model], result.usage);
    return {
      provider: target.provider.name,
      providerType: target.provider.type,
      model: result.model,
      latencyMs: Math.round(performance.now() - started),
      attempts: 1,
      requestId: call.requestId,
      providerRequestId: result.providerRequestId,
      costMicros: cost.micros,
      costUnknown: !cost.known,
    };
  }
}
