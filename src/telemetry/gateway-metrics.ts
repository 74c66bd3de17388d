import type { Attributes, Counter, Histogram, Meter, ObservableResult, UpDownCounter } from "@opentelemetry/api";
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "@opentelemetry/semantic-conventions";
import type { AttemptRecord } from "../providers/call-context.js";
import { gatewayAttributes as gw } from "./gateway-attributes.js";
import { genAiAttributes as gen } from "./gen-ai-attributes.js";
import { genAiProviderName } from "./gen-ai-provider-name.js";
import { grpcStatus } from "./grpc-status.js";
import type { ProviderEndpoint } from "./provider-endpoint.js";
import type { RequestSummary } from "./request-summary.js";
import { attemptEnd, requestTiming } from "./request-timing.js";

/** Bucket boundaries the GenAI conventions prescribe for token counts. */
const tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** Bucket boundaries the GenAI conventions prescribe for durations and time to first chunk, in seconds. */
const durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
/** Finer buckets for the gateway's own overhead and queue waits, in seconds. */
const overheadBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Circuit breaker states as the `llm_gateway.circuit.state` gauge reports them. */
export const circuitStateValues = { closed: 0, half_open: 1, open: 2 } as const;

/** Callbacks the composition root registers for values only the pipeline knows. */
export interface GaugeSources {
  /** Requests waiting in each rate-limit queue. */
  queueDepth?: () => Iterable<{ limiter: string; depth: number }>;
  /** The circuit state of each provider target. */
  circuitStates?: () => Iterable<{ provider: string; model: string; state: keyof typeof circuitStateValues }>;
  /** 1 while the rate-limit store is reachable (memory, or Redis answering), 0 while Redis is not. */
  rateLimitStoreUp?: () => number;
}

/** What metric recording needs besides the summary. */
export interface MetricOptions {
  /** Add `llm_gateway.tenant` and `llm_gateway.key_id` to cost and token metrics (one series per tenant and key). */
  byTenant: boolean;
  endpoints: ReadonlyMap<string, ProviderEndpoint>;
}

/**
 * The gateway's instruments: the GenAI client metrics of the semantic conventions (token usage, operation
 * duration, time to first chunk, per provider attempt) and the gateway's own (`llm_gateway.*`: requests by
 * gRPC status, request duration, added latency, cost, retries, fallbacks, queue waits and depth, circuit
 * state, in-flight requests).
 */
export class GatewayMetrics {
  readonly inFlight: UpDownCounter;
  readonly #tokenUsage: Histogram;
  readonly #operationDuration: Histogram;
  readonly #timeToFirstChunk: Histogram;
  readonly #requests: Counter;
  readonly #requestDuration: Histogram;
  readonly #requestTimeToFirstChunk: Histogram;
  readonly #addedLatency: Histogram;
  readonly #cost: Counter;
  readonly #retries: Counter;
  readonly #fallbacks: Counter;
  readonly #streamContinuations: Counter;
  readonly #queueWait: Histogram;
  readonly #alerts: Counter;

  constructor(
    private readonly meter: Meter,
    private readonly options: MetricOptions,
  ) {
    const seconds = (name: string, description: string, buckets: number[]): Histogram =>
      meter.createHistogram(name, { description, unit: "s", advice: { explicitBucketBoundaries: buckets } });
    this.#tokenUsage = meter.createHistogram("gen_ai.client.token.usage", {
      description: "Number of input and output tokens used.",
      unit: "{token}",
      advice: { explicitBucketBoundaries: tokenBuckets },
    });
    this.#operationDuration = seconds("gen_ai.client.operation.duration", "GenAI operation duration.", durationBuckets);
    this.#timeToFirstChunk = seconds(
      "gen_ai.client.operation.time_to_first_chunk",
      "Time from a streaming provider call's start to its first chunk.",
      durationBuckets,
    );
    this.#requests = meter.createCounter("llm_gateway.requests", {
      description: "Requests served, by gRPC status.",
      unit: "{request}",
    });
    this.#requestDuration = seconds(
      "llm_gateway.request.duration",
      "Wall time of a request, retries and queues included.",
      durationBuckets,
    );
    this.#requestTimeToFirstChunk = seconds(
      "llm_gateway.request.time_to_first_chunk",
      "Time from a streaming request's arrival to its first delta sent to the client.",
      durationBuckets,
    );
    this.#addedLatency = seconds(
      "llm_gateway.added_latency",
      "Request wall time not spent inside provider calls: routing, queues, retry back-off, serialization.",
      overheadBuckets,
    );
    this.#cost = meter.createCounter("llm_gateway.cost", {
      description: "Cost of served requests, in micro-USD.",
      unit: "{micro_usd}",
    });
    this.#retries = meter.createCounter("llm_gateway.retries", {
      description: "Provider calls retried on the same target.",
      unit: "{retry}",
    });
    this.#fallbacks = meter.createCounter("llm_gateway.fallbacks", {
      description: "Moves to the next target after a failure.",
      unit: "{fallback}",
    });
    this.#streamContinuations = meter.createCounter("llm_gateway.stream.continuations", {
      description: "Streams continued on another target after a failure mid-stream.",
      unit: "{continuation}",
    });
    this.#queueWait = seconds("llm_gateway.queue.wait", "Time requests waited in a rate-limit queue.", overheadBuckets);
    this.inFlight = meter.createUpDownCounter("llm_gateway.requests.in_flight", {
      description: "RPCs being served.",
      unit: "{request}",
    });
    this.#alerts = meter.createCounter("llm_gateway.alerts", {
      description: "Alerts raised, by type.",
      unit: "{alert}",
    });
  }

  /** Counts a raised alert by its type (budget_threshold, circuit_opened, circuit_closed, error_rate). */
  recordAlert(type: string): void {
    this.#alerts.add(1, { [gw.alertType]: type });
  }

  /** Records a finished request: its attempts, events, status, cost and latency split. */
  recordRequest(summary: RequestSummary): void {
    const tenant: Attributes = !this.options.byTenant
      ? {}
      : {
          ...(summary.tenant === "" ? {} : { [gw.tenant]: summary.tenant }),
          ...(summary.keyId === "" ? {} : { [gw.keyId]: summary.keyId }),
        };
    for (const event of summary.trace.events) {
      switch (event.type) {
        case "attempt":
          this.#recordAttempt(event, summary.endedAt, tenant);
          break;
        case "queued":
          this.#queueWait.record(event.waitedMs / 1000, { [gw.limiter]: event.limiter });
          break;
        case "retry":
          this.#retries.add(1, {
            [gw.provider]: event.provider,
            [gen.requestModel]: event.model,
            [gw.reason]: event.reason,
          });
          break;
        case "fallback":
          this.#fallbacks.add(1, {
            [gw.fromProvider]: event.fromProvider,
            [gw.toProvider]: event.toProvider,
            [gw.reason]: event.reason,
          });
          break;
        case "stream_continued":
          this.#streamContinuations.add(1, {
            [gw.fromProvider]: event.fromProvider,
            [gw.toProvider]: event.toProvider,
            [gw.reason]: event.reason,
          });
          break;
      }
    }
    const timing = requestTiming(summary);
    const status: Attributes = {
      [ATTR_RPC_METHOD]: summary.rpc,
      [ATTR_RPC_STATUS_CODE]: grpcStatus.name(summary.code),
    };
    this.#requests.add(1, summary.errorKind === undefined ? status : { ...status, [gw.errorKind]: summary.errorKind });
    this.#requestDuration.record(timing.totalMs / 1000, status);
    this.#addedLatency.record(timing.addedMs / 1000, { [ATTR_RPC_METHOD]: summary.rpc });
    const servedBy = summary.trace.servedBy;
    const served: Attributes =
      servedBy === undefined ? {} : { [gw.provider]: servedBy.provider, [gw.servedModel]: servedBy.model };
    if (timing.timeToFirstChunkMs !== undefined) {
      this.#requestTimeToFirstChunk.record(timing.timeToFirstChunkMs / 1000, {
        [ATTR_RPC_METHOD]: summary.rpc,
        ...served,
      });
    }
    if (summary.costMicros > 0n) this.#cost.add(Number(summary.costMicros), { ...served, ...tenant });
  }

  /** Registers the observable gauges; returns a function that unregisters them. */
  registerGauges(sources: GaugeSources): () => void {
    const removers: (() => void)[] = [];
    const { queueDepth, circuitStates, rateLimitStoreUp } = sources;
    if (rateLimitStoreUp !== undefined) {
      const gauge = this.meter.createObservableGauge("llm_gateway.rate_limit.store.up", {
        description: "1 while rate-limit counters are shared as configured, 0 while Redis cannot be reached.",
      });
      const callback = (result: ObservableResult): void => result.observe(rateLimitStoreUp());
      gauge.addCallback(callback);
      removers.push(() => gauge.removeCallback(callback));
    }
    if (queueDepth !== undefined) {
      const gauge = this.meter.createObservableGauge("llm_gateway.queue.depth", {
        description: "Requests waiting in a rate-limit queue.",
        unit: "{request}",
      });
      const callback = (result: ObservableResult): void => {
        for (const { limiter, depth } of queueDepth()) result.observe(depth, { [gw.limiter]: limiter });
      };
      gauge.addCallback(callback);
      removers.push(() => gauge.removeCallback(callback));
    }
    if (circuitStates !== undefined) {
      const gauge = this.meter.createObservableGauge("llm_gateway.circuit.state", {
        description: "Circuit breaker state of a provider target: 0 closed, 1 half-open, 2 open.",
      });
      const callback = (result: ObservableResult): void => {
        for (const { provider, model, state } of circuitStates()) {
          result.observe(circuitStateValues[state], { [gw.provider]: provider, [gen.requestModel]: model });
        }
      };
      gauge.addCallback(callback);
      removers.push(() => gauge.removeCallback(callback));
    }
    return () => {
      for (const remove of removers) remove();
    };
  }

  #recordAttempt(attempt: AttemptRecord, requestEnd: number, tenant: Attributes): void {
    const attributes: Attributes = {
      [gen.operationName]: attempt.operation,
      [gen.providerName]: genAiProviderName(attempt.providerType, attempt.provider),
      [gen.requestModel]: attempt.model,
      [gw.provider]: attempt.provider,
    };
    if (attempt.responseModel !== undefined) attributes[gen.responseModel] = attempt.responseModel;
    const endpoint = this.options.endpoints.get(attempt.provider);
    if (endpoint !== undefined) {
      attributes[ATTR_SERVER_ADDRESS] = endpoint.address;
      attributes[ATTR_SERVER_PORT] = endpoint.port;
    }
    const duration = (attemptEnd(attempt, requestEnd) - attempt.startedAt) / 1000;
    this.#operationDuration.record(
      duration,
      attempt.error === undefined ? attributes : { ...attributes, [ATTR_ERROR_TYPE]: attempt.error.kind },
    );
    if (attempt.stream && attempt.firstChunkAt !== undefined)
      this.#timeToFirstChunk.record((attempt.firstChunkAt - attempt.startedAt) / 1000, attributes);
    if (attempt.usage !== undefined) {
      this.#tokenUsage.record(attempt.usage.promptTokens, { ...attributes, ...tenant, [gen.tokenType]: "input" });
      this.#tokenUsage.record(attempt.usage.completionTokens, { ...attributes, ...tenant, [gen.tokenType]: "output" });
    }
  }
}
