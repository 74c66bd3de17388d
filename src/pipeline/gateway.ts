import type { ProviderType } from "../config/provider-type.js";
import type { CallContext, CallTrace } from "../providers/call-context.js";
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
import { ProviderError } from "../providers/provider-error.js";
import type { PriceTable } from "../usage/price-table.js";
import type { ModelRouter, Route } from "./model-router.js";

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
  /** Filled by the pipeline as it serves the call; read by telemetry when the request ends. */
  trace: CallTrace;
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

/** What every result carries for the metadata. */
interface Answer {
  usage: TokenUsage;
  model: string;
  providerRequestId?: string | undefined;
}

/**
 * The entry point of the provider layer for the RPC handlers: resolves a model name to its route (the
 * composed pipeline of src/pipeline/compose-pipeline.ts), calls it with a fresh CallContext, and adds cost
 * and metadata from what the pipeline recorded in the call's trace.
 */
export class Gateway {
  constructor(
    readonly router: ModelRouter,
    private readonly prices: PriceTable,
  ) {}

  chat(model: string, request: Unrouted<ChatRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, (route, context) => route.chat({ ...request, model }, call.signal, context));
  }

  complete(model: string, request: Unrouted<CompletionRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, (route, context) => route.complete({ ...request, model }, call.signal, context));
  }

  embed(model: string, request: Unrouted<EmbedRequest>, call: GatewayCall): Promise<GatewayEmbedding> {
    return this.#unary(model, call, (route, context) => route.embed({ ...request, model }, call.signal, context));
  }

  streamChat(model: string, request: Unrouted<ChatRequest>, call: GatewayCall): AsyncIterable<GatewayStreamPart> {
    return this.#stream(model, call, (route, context) => route.streamChat({ ...request, model }, call.signal, context));
  }

  streamComplete(model: string, request: Unrouted<CompletionRequest>, call: GatewayCall): AsyncIterable<GatewayStreamPart> {
    return this.#stream(model, call, (route, context) => route.streamComplete({ ...request, model }, call.signal, context));
  }

  async #unary<R extends Answer>(
    model: string,
    call: GatewayCall,
    invoke: (route: Provider, context: CallContext) => Promise<R>,
  ): Promise<R & { metadata: ServedMetadata }> {
    const started = performance.now();
    const route = this.router.resolve(model);
    const context = this.#context(call);
    const result = await invoke(route.provider, context);
    return { ...result, metadata: this.#metadata(route, result, context, call, started) };
  }

  async *#stream(
    model: string,
    call: GatewayCall,
    open: (route: Provider, context: CallContext) => AsyncIterable<StreamPart>,
  ): AsyncGenerator<GatewayStreamPart> {
    const started = performance.now();
    const route = this.router.resolve(model);
    const context = this.#context(call);
    for await (const part of open(route.provider, context)) {
      if (part.type === "delta") {
        yield part;
      } else {
        yield { ...part, metadata: this.#metadata(route, part, context, call, started) };
        return;
      }
    }
    throw new ProviderError({ kind: "unavailable", provider: route.name, message: `${route.name}: stream ended before it completed` });
  }

  #context(call: GatewayCall): CallContext {
    return { deadline: call.deadline, clientId: call.clientId, trace: call.trace };
  }

  #metadata(route: Route, result: Answer, context: CallContext, call: GatewayCall, started: number): ServedMetadata {
    const served = context.trace.servedBy ?? route.targets[0];
    const providerType = served?.providerType ?? route.provider.type;
    const cost = this.prices.cost(providerType, served ? [result.model, served.model] : [result.model], result.usage);
    return {
      provider: served?.provider ?? route.provider.name,
      providerType,
      model: result.model,
      latencyMs: Math.round(performance.now() - started),
      attempts: context.trace.attempts,
      requestId: call.requestId,
      providerRequestId: result.providerRequestId,
      costMicros: cost.micros,
      costUnknown: !cost.known,
    };
  }
}
