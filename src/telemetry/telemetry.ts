import type { Interceptor } from "@connectrpc/connect";
import { DiagLogLevel, diag, type Span, type Tracer } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { Logger } from "pino";
import type { ProviderType } from "../config/provider-type.js";
import type { TelemetryEnv } from "../config/telemetry-env.js";
import type { TelemetryConfig } from "../config/telemetry-schema.js";
import { GatewayMetrics, type GaugeSources } from "./gateway-metrics.js";
import { grpcStatus } from "./grpc-status.js";
import { otlpExporters } from "./otlp-exporters.js";
import { PrometheusEndpoint } from "./prometheus-endpoint.js";
import { providerEndpoint, type ProviderEndpoint } from "./provider-endpoint.js";
import { requestLogLine } from "./request-log-line.js";
import { recordRequestSpans } from "./request-spans.js";
import type { RequestSummary } from "./request-summary.js";
import { rpcInterceptor } from "./rpc-interceptor.js";
import { traceSampler } from "./trace-sampler.js";

/** What telemetry is built from. */
export interface TelemetryOptions {
  /** The config file's `telemetry` section. */
  config: TelemetryConfig;
  /** The OTEL_* settings, from `telemetryEnv()`. */
  env: TelemetryEnv;
  /** Receives one line per request (and OpenTelemetry's own warnings); none writes no request lines. */
  logger?: Logger;
  /** The configured providers, for `server.address` / `server.port` of provider calls. */
  providers?: readonly { name: string; type: ProviderType; baseUrl?: string | undefined }[];
}

const scope = "llm-gateway";

/**
 * The gateway's traces, metrics and request logs. Tracing runs when an OTLP traces endpoint is configured,
 * metrics when a Prometheus endpoint or an OTLP metrics endpoint is; otherwise each part is absent and costs
 * nothing (the interceptor is a pass-through, no span object is made). Request log lines are always written
 * when a logger is given.
 */
export class Telemetry {
  /** The connect interceptor to put first in the server's list. */
  readonly interceptor: Interceptor;
  readonly #tracer: Tracer | undefined;
  readonly #metrics: GatewayMetrics | undefined;
  readonly #endpoints: ReadonlyMap<string, ProviderEndpoint>;
  /**
   * The logger of the per-request lines, without the process logger's wildcard redaction: a request line is
   * built field by field (requestLogLine: ids, names, counts, kinds; no header, message or content), so there
   * is nothing to redact, and wildcard redaction cost about seven times the rest of writing the line.
   */
  readonly #requestLogger: Logger | undefined;

  private constructor(
    private readonly options: TelemetryOptions,
    private readonly tracerProvider: BasicTracerProvider | undefined,
    private readonly meterProvider: MeterProvider | undefined,
    private readonly prometheus: PrometheusEndpoint | undefined,
  ) {
    this.#requestLogger = options.logger?.child({}, { redact: [] });
    this.#endpoints = new Map(
      (options.providers ?? []).flatMap((p) => {
        const endpoint = providerEndpoint(p);
        return endpoint === undefined ? [] : [[p.name, endpoint] as const];
      }),
    );
    this.#tracer = tracerProvider?.getTracer(scope);
    this.#metrics =
      meterProvider === undefined
        ? undefined
        : new GatewayMetrics(meterProvider.getMeter(scope), {
            byTenant: options.config.metricsByTenant,
            endpoints: this.#endpoints,
          });
    this.interceptor = rpcInterceptor(this.#tracer, this.#metrics?.inFlight);
  }

  /** Builds the providers and exporters the settings ask for and starts the Prometheus endpoint if enabled. */
  static async start(options: TelemetryOptions): Promise<Telemetry> {
    const { config, env, logger } = options;
    if (logger !== undefined) {
      diag.setLogger(
        {
          error: (m) => logger.error(`opentelemetry: ${m}`),
          warn: (m) => logger.warn(`opentelemetry: ${m}`),
          info: () => {},
          debug: () => {},
          verbose: () => {},
        },
        { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
      );
    }
    const resource = resourceFromAttributes({ ...env.resourceAttributes, [ATTR_SERVICE_NAME]: env.serviceName });
    const tracerProvider =
      env.traces === undefined
        ? undefined
        : new BasicTracerProvider({
            resource,
            sampler: traceSampler(env.sampler),
            spanProcessors: [new BatchSpanProcessor(otlpExporters.spans(env.traces))],
          });
    const prometheus =
      config.prometheus.enabled || env.prometheus ? await PrometheusEndpoint.start(config.prometheus) : undefined;
    const readers: IMetricReader[] = [];
    if (prometheus !== undefined) readers.push(prometheus.reader);
    if (env.metrics !== undefined) {
      readers.push(
        new PeriodicExportingMetricReader({
          exporter: otlpExporters.metrics(env.metrics),
          exportIntervalMillis: env.metricExportIntervalMs,
          exportTimeoutMillis: Math.min(30_000, env.metricExportIntervalMs),
        }),
      );
    }
    const meterProvider = readers.length === 0 ? undefined : new MeterProvider({ resource, readers });
    return new Telemetry(options, tracerProvider, meterProvider, prometheus);
  }

  /** True when spans are made and exported. */
  get tracing(): boolean {
    return this.#tracer !== undefined;
  }

  /** True when metrics are recorded (Prometheus or OTLP). */
  get metrics(): boolean {
    return this.#metrics !== undefined;
  }

  /** The scrape URL when the Prometheus endpoint runs. */
  get prometheusUrl(): string | undefined {
    return this.prometheus?.url;
  }

  /**
   * Records a finished request, once, at its end: child spans of `span` (the RPC span from `rpcSpanKey`) for
   * each attempt and queue wait, retry/fallback events and usage attributes on it; the request's metrics;
   * and its log line. Call it before the RPC span ends (in the handler, before the last message or the
   * error leaves), or the RPC span's own attributes are lost. Never throws: telemetry must not fail a request.
   */
  recordRequest(span: Span, summary: RequestSummary): void {
    try {
      if (this.#tracer !== undefined && span.isRecording()) {
        recordRequestSpans(this.#tracer, span, summary, {
          recordContent: this.options.config.recordContent,
          endpoints: this.#endpoints,
        });
      }
      this.#metrics?.recordRequest(summary);
      const logger = this.#requestLogger;
      if (logger !== undefined) {
        const line = requestLogLine(summary, span.spanContext());
        if (grpcStatus.isServerError(summary.code)) logger.warn(line, "request");
        else logger.info(line, "request");
      }
    } catch (error) {
      diag.error(
        `recording request ${summary.requestId} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Counts a raised alert (the alert's log line is written by whoever raised it). */
  recordAlert(type: string): void {
    this.#metrics?.recordAlert(type);
  }

  /** Registers the queue-depth and circuit-state gauge callbacks; returns a function that removes them. */
  registerGauges(sources: GaugeSources): () => void {
    return this.#metrics?.registerGauges(sources) ?? (() => {});
  }

  /** Exports what is buffered now (spans, metrics). */
  async flush(): Promise<void> {
    await Promise.all([this.tracerProvider?.forceFlush(), this.meterProvider?.forceFlush()]);
  }

  /** Flushes and stops exporters and the Prometheus endpoint. Call after the server has drained. */
  async shutdown(): Promise<void> {
    await Promise.all([this.tracerProvider?.shutdown(), this.meterProvider?.shutdown(), this.prometheus?.close()]);
    if (this.options.logger !== undefined) diag.disable();
  }
}
