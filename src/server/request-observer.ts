import type { HandlerContext } from "@connectrpc/connect";
import type { GatewayCall, GatewayStreamPart, ServedMetadata, StreamRelay } from "../pipeline/gateway.js";
import type { TokenUsage } from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";
import type { RequestContent, RequestSummary } from "../telemetry/request-summary.js";
import { rpcSpanKey } from "../telemetry/rpc-span-key.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { statusOf } from "./error-codes.js";
import { requestRecordedKey } from "./refusal-recorder.js";
import { gatewayNow as now } from "../telemetry/gateway-clock.js";

/** What the observer needs to know of one RPC besides its outcome. */
export interface ObservedRequest {
  /** The fully qualified method, `llm.v1.LLMService/Chat`. */
  rpc: string;
  /** The model name the client asked for. */
  model: string;
  call: GatewayCall;
  context: HandlerContext;
  /** Prompt text, passed only when content recording is on. */
  input?: RequestContent["input"];
}

/** A served answer's billing facts. */
interface Billed {
  usage: TokenUsage;
  metadata: ServedMetadata;
}

/**
 * Reports each finished RPC to telemetry (spans, metrics, the request log line) from the handler, before the
 * RPC span ends: unary calls when their promise settles, streams when they end or fail.
 */
export class RequestObserver {
  constructor(
    private readonly telemetry: Telemetry,
    readonly recordContent: boolean,
  ) {}

  async unary<R extends Billed>(
    request: ObservedRequest,
    run: () => Promise<R>,
    outputOf?: (result: R) => string,
  ): Promise<R> {
    const startedAt = now();
    let result: R | undefined;
    let failure: unknown;
    try {
      result = await run();
      return result;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const output = result !== undefined && outputOf && this.recordContent ? outputOf(result) : undefined;
      this.#record(request, { startedAt, stream: false, chunks: 0, billed: result, failure, output });
    }
  }

  /**
   * The relay of one stream (see Gateway's StreamRelay): maps each part to its wire message in place, counting
   * the chunks and noting the first one's time, and reports the stream when the gateway says it ended.
   */
  relay<W>(request: ObservedRequest, toWire: (part: GatewayStreamPart) => W): StreamRelay<W> {
    const startedAt = now();
    let firstChunkAt: number | undefined;
    let chunks = 0;
    let billed: Billed | undefined;
    let output = "";
    return {
      message: (part) => {
        if (part.type === "delta") {
          firstChunkAt ??= now();
          chunks += 1;
          if (this.recordContent) output += part.text;
        } else {
          billed = part;
        }
        return toWire(part);
      },
      end: (failure) => {
        this.#record(request, {
          startedAt,
          stream: true,
          firstChunkAt,
          chunks,
          billed,
          failure,
          output: this.recordContent ? output : undefined,
        });
      },
    };
  }

  #record(
    request: ObservedRequest,
    outcome: {
      startedAt: number;
      stream: boolean;
      firstChunkAt?: number | undefined;
      chunks: number;
      billed: Billed | undefined;
      failure: unknown;
      output: string | undefined;
    },
  ): void {
    const { call, context } = request;
    const failed = outcome.failure !== undefined || (outcome.stream && outcome.billed === undefined);
    const summary: RequestSummary = {
      rpc: request.rpc,
      requestId: call.requestId,
      model: request.model,
      clientId: call.clientId,
      keyId: call.caller.keyId,
      tenant: call.caller.tenant,
      code: failed ? statusOf(outcome.failure, context.signal).code : 0,
      startedAt: outcome.startedAt,
      endedAt: now(),
      stream: outcome.stream,
      chunks: outcome.chunks,
      costMicros: outcome.billed?.metadata.costMicros ?? 0n,
      costUnknown: outcome.billed?.metadata.costUnknown ?? true,
      trace: call.trace,
    };
    if (failed) {
      summary.errorKind =
        outcome.failure instanceof ProviderError
          ? outcome.failure.kind
          : outcome.failure === undefined
            ? "cancelled"
            : "internal";
    }
    if (outcome.firstChunkAt !== undefined) summary.firstChunkAt = outcome.firstChunkAt;
    if (outcome.billed) summary.usage = outcome.billed.usage;
    if (this.recordContent) {
      summary.content = {
        ...(request.input === undefined ? {} : { input: request.input }),
        ...(outcome.output === undefined ? {} : { output: outcome.output }),
      };
    }
    context.values.set(requestRecordedKey, true);
    this.telemetry.recordRequest(context.values.get(rpcSpanKey), summary);
  }
}
