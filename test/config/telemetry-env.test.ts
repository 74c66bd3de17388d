import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/load-config.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";

describe("telemetryEnv", () => {
  it("turns tracing and OTLP metrics off when no endpoint is set", () => {
    const env = telemetryEnv({});
    expect(env).toMatchObject({ serviceName: "llm-gateway", traces: undefined, metrics: undefined, prometheus: false });
    expect(env.sampler).toEqual({ name: "parentbased_always_on", ratio: 1 });
  });

  it("derives both signal URLs from OTEL_EXPORTER_OTLP_ENDPOINT, protobuf by default", () => {
    const env = telemetryEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318/" });
    expect(env.traces).toEqual({
      url: "http://jaeger:4318/v1/traces",
      protocol: "http/protobuf",
      headers: {},
      timeoutMs: 10_000,
    });
    expect(env.metrics?.url).toBe("http://jaeger:4318/v1/metrics");
  });

  it("uses a signal's own endpoint, protocol, headers and timeout as given", () => {
    const env = telemetryEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://traces.example.com/otlp/v1/traces",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "x-tenant=a,authorization=Basic%20abc",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-tenant=b",
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: "2500",
    });
    expect(env.traces).toEqual({
      url: "https://traces.example.com/otlp/v1/traces",
      protocol: "http/json",
      headers: { "x-tenant": "b", authorization: "Basic abc" },
      timeoutMs: 2500,
    });
    expect(env.metrics).toMatchObject({
      url: "http://collector:4318/v1/metrics",
      protocol: "http/protobuf",
      headers: { "x-tenant": "a" },
    });
  });

  it("honours OTEL_TRACES_EXPORTER=none, OTEL_METRICS_EXPORTER and OTEL_SDK_DISABLED", () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" };
    expect(telemetryEnv({ ...endpoint, OTEL_TRACES_EXPORTER: "none" })).toMatchObject({
      traces: undefined,
      metrics: { url: "http://collector:4318/v1/metrics" },
    });
    expect(telemetryEnv({ ...endpoint, OTEL_METRICS_EXPORTER: "prometheus" })).toMatchObject({
      metrics: undefined,
      prometheus: true,
    });
    expect(telemetryEnv({ ...endpoint, OTEL_SDK_DISABLED: "true", OTEL_METRICS_EXPORTER: "prometheus" })).toMatchObject(
      {
        traces: undefined,
        metrics: undefined,
        prometheus: false,
      },
    );
  });

  it("reads the service name, resource attributes, sampler and export interval", () => {
    const env = telemetryEnv({
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-resource,deployment.environment.name=prod",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_METRIC_EXPORT_INTERVAL: "15000",
    });
    expect(env).toMatchObject({
      serviceName: "from-resource",
      resourceAttributes: { "deployment.environment.name": "prod" },
      sampler: { name: "parentbased_traceidratio", ratio: 0.25 },
      metricExportIntervalMs: 15_000,
    });
    expect(telemetryEnv({ OTEL_SERVICE_NAME: "gw", OTEL_RESOURCE_ATTRIBUTES: "service.name=other" }).serviceName).toBe(
      "gw",
    );
  });

  it("rejects what it cannot honour, naming each variable", () => {
    const attempt = (): unknown =>
      telemetryEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317",
        OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
        OTEL_TRACES_EXPORTER: "zipkin",
        OTEL_TRACES_SAMPLER: "sometimes",
        OTEL_TRACES_SAMPLER_ARG: "2",
      });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const problems = error instanceof ConfigError ? error.problems.join("\n") : "";
      expect(problems).toContain('OTEL_TRACES_EXPORTER: unsupported exporter "zipkin"');
      expect(problems).toContain('OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported');
      expect(problems).toContain('OTEL_TRACES_SAMPLER: unsupported sampler "sometimes"');
      expect(problems).toContain("OTEL_TRACES_SAMPLER_ARG");
    }
  });
});
