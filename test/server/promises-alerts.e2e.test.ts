import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * README, "Keys, budgets and usage", Alerts: each alert is "a JSON POST to each webhook ..., a log line and the
 * `llm_gateway.alerts` metric". test/server/alerts.e2e.test.ts checks the webhook; this checks the log line and
 * the metric, with no webhook configured.
 */

const lines: Record<string, unknown>[] = [];
let h: Harness;
beforeAll(async () => {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  h = await startHarness({
    logger: createLogger({ level: "info", destination }),
    telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
    pipeline: { retry: { maxAttempts: 1 } },
    providerDefaults: { circuitBreaker: { failureThreshold: 1, minRequests: 1_000, openMs: 60_000 } },
    // Error-rate alerts out of the way: only the circuit alert is expected.
    alerts: { errorRate: { threshold: 1, minRequests: 1_000 } },
    emulator: { fault: (request) => (request.api === "azure" ? { status: 500 } : undefined) },
  });
});
afterAll(() => h.close());

describe("an alert (a circuit opening)", () => {
  it("writes a log line and counts llm_gateway.alerts by type", async () => {
    await h.grpc.chat({ model: models.azure, messages: [{ role: Role.USER, content: "fail" }] }).catch(() => undefined);

    const alertLines = (): Record<string, unknown>[] =>
      lines.filter((l) => typeof l["msg"] === "string" && (l["msg"] as string).startsWith("alert: "));
    for (const until = Date.now() + 2_000; alertLines().length === 0 && Date.now() < until; )
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(alertLines()).toHaveLength(1);
    expect(alertLines()[0]).toMatchObject({
      level: 40,
      alert: { type: "circuit_opened", provider: "azure-east", model: "gpt-4o" },
    });

    const url = lines.find((l) => l["msg"] === "llm-gateway listening")?.["metrics"];
    expect(typeof url).toBe("string");
    const scrape = await (await fetch(String(url))).text();
    const counted = scrape
      .split("\n")
      .filter((l) => l.startsWith("llm_gateway_alerts") && l.includes('llm_gateway_alert_type="circuit_opened"'));
    expect(counted).toHaveLength(1);
    expect(counted[0]).toMatch(/ 1$/);
  });
});
