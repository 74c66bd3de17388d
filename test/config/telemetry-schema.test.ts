import { describe, expect, it } from "vitest";
import { telemetrySchema } from "../../src/config/telemetry-schema.js";

describe("telemetrySchema", () => {
  it("defaults to no Prometheus endpoint, no content and no tenant series", () => {
    expect(telemetrySchema.parse({})).toEqual({
      prometheus: { enabled: false, host: "0.0.0.0", port: 9464, path: "/metrics" },
      recordContent: false,
      metricsByTenant: false,
    });
  });

  it("rejects unknown keys and bad values", () => {
    expect(telemetrySchema.safeParse({ sampling: 1 }).success).toBe(false);
    expect(telemetrySchema.safeParse({ prometheus: { port: 70_000 } }).success).toBe(false);
    expect(telemetrySchema.safeParse({ prometheus: { path: "metrics" } }).success).toBe(false);
    expect(telemetrySchema.parse({ prometheus: { enabled: true, port: 0 } }).prometheus).toMatchObject({
      enabled: true,
      port: 0,
    });
  });
});
