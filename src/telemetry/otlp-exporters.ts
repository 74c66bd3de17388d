import { OTLPMetricExporter as JsonMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as ProtobufMetricExporter } from "@opentelemetry/exporter-metrics-otlp-proto";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { OtlpTarget } from "../config/telemetry-env.js";

/** The OTLP/HTTP exporters for a configured target, in its protocol (protobuf or JSON). */
export const otlpExporters = {
  spans(target: OtlpTarget): SpanExporter {
    const options = { url: target.url, headers: { ...target.headers }, timeoutMillis: target.timeoutMs };
    return target.protocol === "http/json" ? new JsonTraceExporter(options) : new ProtobufTraceExporter(options);
  },
  metrics(target: OtlpTarget): PushMetricExporter {
    const options = { url: target.url, headers: { ...target.headers }, timeoutMillis: target.timeoutMs };
    return target.protocol === "http/json" ? new JsonMetricExporter(options) : new ProtobufMetricExporter(options);
  },
} as const;
