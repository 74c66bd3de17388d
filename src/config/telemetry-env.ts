import { ConfigError, type Environment } from "./load-config.js";

/** The OTLP/HTTP encodings the gateway exports in. gRPC is not offered: use port 4318 (OTLP/HTTP) instead. */
export type OtlpProtocol = "http/protobuf" | "http/json";

/** Where and how one signal (traces or metrics) is exported. */
export interface OtlpTarget {
  /** The full URL, `/v1/traces` or `/v1/metrics` included. */
  url: string;
  protocol: OtlpProtocol;
  /** Extra HTTP headers (often a backend's auth token): never logged. */
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
}

/** The trace samplers of the OpenTelemetry SDK environment specification. */
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";

/** The OpenTelemetry settings the gateway takes from its environment. */
export interface TelemetryEnv {
  serviceName: string;
  /** From OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Readonly<Record<string, string>>;
  /** Undefined when tracing is off. */
  traces: OtlpTarget | undefined;
  /** Undefined when OTLP metric export is off. */
  metrics: OtlpTarget | undefined;
  /** OTEL_METRICS_EXPORTER lists `prometheus`: serve the scrape endpoint even if the config does not enable it. */
  prometheus: boolean;
  sampler: { name: SamplerName; ratio: number };
  metricExportIntervalMs: number;
}

const samplerNames: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

/**
 * Reads the standard `OTEL_*` variables. Tracing is ON only when all of these hold:
 * `OTEL_SDK_DISABLED` is not `true`; `OTEL_TRACES_EXPORTER` is unset or `otlp`; and an endpoint is set
 * (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, used as is, or `OTEL_EXPORTER_OTLP_ENDPOINT`, to which `/v1/traces`
 * is appended). Unlike the SDK default, no endpoint means off, not localhost:4318, so an unconfigured gateway
 * pays nothing. OTLP metric export follows the same rule with `OTEL_METRICS_EXPORTER` and `/v1/metrics`.
 * Protocol: `OTEL_EXPORTER_OTLP_[SIGNAL_]PROTOCOL`, `http/protobuf` (default) or `http/json`.
 * Throws ConfigError for values it cannot honour (the `grpc` protocol, unknown exporters or samplers).
 */
export function telemetryEnv(env: Environment = process.env): TelemetryEnv {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const disabled = read("OTEL_SDK_DISABLED")?.toLowerCase() === "true";
  const exporters = (name: string, allowed: readonly string[]): Set<string> => {
    const listed = new Set((read(name) ?? "otlp").split(",").map((v) => v.trim().toLowerCase()));
    for (const value of listed)
      if (!allowed.includes(value))
        problems.push(`${name}: unsupported exporter "${value}" (use ${allowed.join(", ")})`);
    if (listed.has("none")) listed.clear();
    return listed;
  };
  const target = (signal: "TRACES" | "METRICS", path: string): OtlpTarget | undefined => {
    const specific = read(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
    const base = read("OTEL_EXPORTER_OTLP_ENDPOINT");
    const url = specific ?? (base === undefined ? undefined : `${base.replace(/\/+$/, "")}${path}`);
    if (url === undefined) return undefined;
    if (!/^https?:\/\//.test(url)) problems.push(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT: not an http(s) URL: ${url}`);
    const protocolVariable =
      read(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) === undefined
        ? "OTEL_EXPORTER_OTLP_PROTOCOL"
        : `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`;
    const protocol = read(protocolVariable) ?? "http/protobuf";
    if (protocol !== "http/protobuf" && protocol !== "http/json") {
      problems.push(
        `${protocolVariable}: "${protocol}" is not supported; use http/protobuf or http/json (OTLP/HTTP, port 4318)`,
      );
    }
    const timeout = Number(
      read(`OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`) ?? read("OTEL_EXPORTER_OTLP_TIMEOUT") ?? 10_000,
    );
    return {
      url,
      protocol: protocol === "http/json" ? "http/json" : "http/protobuf",
      headers: {
        ...parseList(read("OTEL_EXPORTER_OTLP_HEADERS")),
        ...parseList(read(`OTEL_EXPORTER_OTLP_${signal}_HEADERS`)),
      },
      timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : 10_000,
    };
  };

  const traceExporters = exporters("OTEL_TRACES_EXPORTER", ["otlp", "none"]);
  const metricExporters = exporters("OTEL_METRICS_EXPORTER", ["otlp", "prometheus", "none"]);
  const traces = !disabled && traceExporters.has("otlp") ? target("TRACES", "/v1/traces") : undefined;
  const metrics = !disabled && metricExporters.has("otlp") ? target("METRICS", "/v1/metrics") : undefined;

  const samplerValue = (read("OTEL_TRACES_SAMPLER") ?? "parentbased_always_on").toLowerCase();
  const sampler = samplerNames.find((name) => name === samplerValue);
  if (sampler === undefined)
    problems.push(`OTEL_TRACES_SAMPLER: unsupported sampler "${samplerValue}" (use ${samplerNames.join(", ")})`);
  const ratio = Number(read("OTEL_TRACES_SAMPLER_ARG") ?? 1);
  if (!(ratio >= 0 && ratio <= 1)) problems.push(`OTEL_TRACES_SAMPLER_ARG: not a ratio between 0 and 1`);
  const interval = Number(read("OTEL_METRIC_EXPORT_INTERVAL") ?? 60_000);
  if (!(Number.isInteger(interval) && interval > 0))
    problems.push(`OTEL_METRIC_EXPORT_INTERVAL: not a positive number of milliseconds`);

  if (problems.length > 0) throw new ConfigError(problems);
  const resourceAttributes = parseList(read("OTEL_RESOURCE_ATTRIBUTES"));
  return {
    serviceName: read("OTEL_SERVICE_NAME") ?? resourceAttributes["service.name"] ?? "llm-gateway",
    resourceAttributes,
    traces,
    metrics,
    prometheus: !disabled && metricExporters.has("prometheus"),
    sampler: { name: sampler ?? "parentbased_always_on", ratio },
    metricExportIntervalMs: interval,
  };
}

/** Parses the `key=value,key2=value2` lists of OTEL_RESOURCE_ATTRIBUTES and the OTLP headers (percent-encoded). */
function parseList(value: string | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of value?.split(",") ?? []) {
    const at = item.indexOf("=");
    if (at <= 0) continue;
    const key = decode(item.slice(0, at).trim());
    if (key !== "") result[key] = decode(item.slice(at + 1).trim());
  }
  return result;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
