import type { ProviderType } from "../config/provider-type.js";
import { keyAllowsModel, type ApiKeyRecord } from "../auth/api-key.js";
import type { CallContext, CallerLimits, CallTrace } from "../providers/call-context.js";
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
import type { AccountCost, CallAccount } from "../usage/call-account.js";
import type { Billable, Caller, CostControl } from "../usage/cost-control.js";
import type { ModelRouter, Route } from "./routing/model-router.js";

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
  /** The caller's identity for per-client limits: its key id with keys on, else the client header; "" when unknown. */
  clientId: string;
  /** The client key and tenant the call bills to. */
  caller: Caller;
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
export type GatewayStreamPart =
  | Extract<StreamPart, { type: "delta" }>
  | (Extract<StreamPart, { type: "finish" }> & { metadata: ServedMetadata });

/**
 * How a stream's parts leave the gateway: each mapped to what the caller sends on (the server: its wire
 * message) in place, and the end told once. Observation is these two calls, not a layer of its own.
 */
export interface StreamRelay<W> {
  message(part: GatewayStreamPart): W;
  /** The stream is over: `failure` is its error; undefined when it finished or its consumer stopped reading. */
  end(failure: unknown): void;
}

/** The parts as they are, with no one told of the end (callers that want the domain parts). */
export const gatewayParts: StreamRelay<GatewayStreamPart> = { message: (part) => part, end: () => undefined };

/** A request as the client sent it, before its model name is resolved to a provider's model. */
type Unrouted<T> = Omit<T, "model">;

/** What every result carries for the metadata. */
interface Answer {
  usage: TokenUsage;
  model: string;
  providerRequestId?: string | undefined;
}

/**
 * The entry point of the provider layer for the RPC handlers: checks that the caller's key may use the model,
 * resolves the model name to its route (the composed pipeline of src/pipeline/compose-pipeline.ts), opens the
 * call's account (budget reservation; see CostControl), calls the route with a fresh CallContext, and adds
 * cost and metadata from what the pipeline recorded in the call's trace and account.
 */
export class Gateway {
  constructor(
    readonly router: ModelRouter,
    private readonly costs: CostControl,
  ) {}

  chat(model: string, request: Unrouted<ChatRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, { operation: "chat", request }, (route, context, maxTokens) =>
      route.chat({ ...request, ...maxTokens, model }, call.signal, context),
    );
  }

  complete(model: string, request: Unrouted<CompletionRequest>, call: GatewayCall): Promise<GatewayGeneration> {
    return this.#unary(model, call, { operation: "text_completion", request }, (route, context, maxTokens) =>
      route.complete({ ...request, ...maxTokens, model }, call.signal, context),
    );
  }

  embed(model: string, request: Unrouted<EmbedRequest>, call: GatewayCall): Promise<GatewayEmbedding> {
    return this.#unary(model, call, { operation: "embeddings", request }, (route, context) =>
      route.embed({ ...request, model }, call.signal, context),
    );
  }

  streamChat<W>(
    model: string,
    request: Unrouted<ChatRequest>,
    call: GatewayCall,
    relay: StreamRelay<W>,
  ): AsyncIterable<W> {
    return this.#stream(
      model,
      call,
      { operation: "chat", request },
      (route, context, maxTokens) => route.streamChat({ ...request, ...maxTokens, model }, call.signal, context),
      relay,
    );
  }

  streamComplete<W>(
    model: string,
    request: Unrouted<CompletionRequest>,
    call: GatewayCall,
    relay: StreamRelay<W>,
  ): AsyncIterable<W> {
    return this.#stream(
      model,
      call,
      { operation: "text_completion", request },
      (route, context, maxTokens) => route.streamComplete({ ...request, ...maxTokens, model }, call.signal, context),
      relay,
    );
  }

  async #unary<R extends Answer>(
    model: string,
    call: GatewayCall,
    billable: Billable,
    invoke: (route: Provider, context: CallContext, maxTokens: MaxTokens) => Promise<R>,
  ): Promise<R & { metadata: ServedMetadata }> {
    const started = performance.now();
    const { route, context, account, maxTokens } = await this.#open(model, call, billable, false);
    try {
      const result = await invoke(route.provider, context, maxTokens);
      const metadata = this.#metadata(route, result, await account.cost(), context, call, started);
      this.costs.finish(account, { status: "ok", servedBy: context.trace.servedBy });
      return { ...result, metadata };
    } catch (error) {
      this.costs.finish(account, { status: kindOf(error), servedBy: undefined });
      throw error;
    }
  }

  async *#stream<W>(
    model: string,
    call: GatewayCall,
    billable: Billable,
    open: (route: Provider, context: CallContext, maxTokens: MaxTokens) => AsyncIterable<StreamPart>,
    relay: StreamRelay<W>,
  ): AsyncGenerator<W> {
    const started = performance.now();
    let opened: Opened | undefined;
    let status = "cancelled";
    let failure: unknown;
    try {
      opened = await this.#open(model, call, billable, true);
      const { route, context, account, maxTokens } = opened;
      for await (const part of open(route.provider, context, maxTokens)) {
        if (part.type === "delta") {
          yield relay.message(part);
        } else {
          const metadata = this.#metadata(route, part, await account.cost(), context, call, started);
          status = "ok";
          yield relay.message({ ...part, metadata });
          return;
        }
      }
      throw new ProviderError({
        kind: "unavailable",
        provider: route.name,
        message: `${route.name}: stream ended before it completed`,
      });
    } catch (error) {
      status = kindOf(error);
      failure = error;
      throw error;
    } finally {
      if (opened !== undefined) {
        const servedBy = status === "ok" ? opened.context.trace.servedBy : undefined;
        this.costs.finish(opened.account, { status, servedBy });
      }
      relay.end(failure);
    }
  }

  async #open(model: string, call: GatewayCall, billable: Billable, stream: boolean): Promise<Opened> {
    const key = call.caller.key;
    if (key !== undefined && !keyAllowsModel(key, model)) {
      throw new ProviderError({
        kind: "permission_denied",
        provider: "",
        message: `key ${key.id} may not use model "${model}"`,
      });
    }
    const route = this.router.resolve(model);
    const { account, maxTokens } = await this.costs.open(
      { requestId: call.requestId, model, stream, startedAt: Date.now() },
      call.caller,
      route,
      billable,
      call.signal,
      call.deadline,
    );
    const context: CallContext = {
      deadline: call.deadline,
      clientId: call.clientId,
      trace: call.trace,
      account,
      ...(key === undefined ? {} : { clientLimits: limitsOf(key) }),
    };
    return { route, context, account, maxTokens: maxTokens === undefined ? {} : { maxTokens } };
  }

  #metadata(
    route: Route,
    result: Answer,
    cost: AccountCost,
    context: CallContext,
    call: GatewayCall,
    started: number,
  ): ServedMetadata {
    const served = context.trace.servedBy ?? route.targets[0];
    return {
      provider: served?.provider ?? route.provider.name,
      providerType: served?.providerType ?? route.provider.type,
      model: result.model,
      latencyMs: Math.round(performance.now() - started),
      attempts: context.trace.attempts,
      requestId: call.requestId,
      providerRequestId: result.providerRequestId,
      costMicros: cost.micros,
      costUnknown: cost.unknown,
    };
  }
}

/** The max_tokens the gateway sets on a request (empty: the request's own stands). */
type MaxTokens = { maxTokens?: number };

interface Opened {
  route: Route;
  context: CallContext;
  account: CallAccount;
  maxTokens: MaxTokens;
}

/** A request's ending for the ledger: its error kind ("internal" for anything but a ProviderError). */
function kindOf(error: unknown): string {
  return error instanceof ProviderError ? error.kind : "internal";
}

function limitsOf(key: ApiKeyRecord): CallerLimits {
  return {
    ...(key.requestsPerMinute === undefined ? {} : { requestsPerMinute: key.requestsPerMinute }),
    ...(key.tokensPerMinute === undefined ? {} : { tokensPerMinute: key.tokensPerMinute }),
  };
}
