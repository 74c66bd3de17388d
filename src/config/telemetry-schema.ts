import { z } from "zod";

/**
 * The `telemetry` section of the config file. Trace and OTLP export settings come from the standard `OTEL_*`
 * environment variables instead (see telemetry-env.ts); this holds what has no standard variable.
 */
export const telemetrySchema = z.strictObject({
  /** A Prometheus scrape endpoint serving the gateway's metrics; off unless enabled. */
  prometheus: z
    .strictObject({
      enabled: z.boolean().default(false),
      host: z.string().default("0.0.0.0"),
      /** 9464 is Prometheus' registered port for OpenTelemetry exporters; 0 picks a free port. */
      port: z.number().int().min(0).max(65535).default(9464),
      path: z.string().regex(/^\//, "must start with /").default("/metrics"),
    })
    .prefault({}),
  /**
   * Records prompt and completion text on attempt spans (`gen_ai.input.messages`, `gen_ai.output.messages`).
   * Off by default: prompts often hold personal data.
   */
  recordContent: z.boolean().default(false),
  /**
   * Adds the caller's `tenant` as a metric attribute (cost and token metrics). Off by default because the
   * tenant is caller-supplied: each distinct value is a new time series.
   */
  metricsByTenant: z.boolean().default(false),
});

/** The validated `telemetry` config section. */
export type TelemetryConfig = z.output<typeof telemetrySchema>;
