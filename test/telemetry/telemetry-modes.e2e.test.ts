import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { telemetrySchema } from "../../src/config/telemetry-schema.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { Telemetry, type TelemetryOptions } from "../../src/telemetry/telemetry.js";
import { OtlpReceiver } from "./support/otlp-receiver.js";
import { spanKind } from "./support/received-span.js";
import { clientKey, providerKey, scenarios } from "./support/scenarios.js";
import { startTracedService, type TracedService } from "./support/traced-service.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(options: Omit<TelemetryOptions, "config" | "env"> & { config?: unknown; env: Record<string, string> }): Promise<{
  receiver: OtlpReceiver;
  telemetry: Telemetry;
  service: TracedService;
}> {
  const receiver = await OtlpReceiver.start();
  const env = Object.fromEntries(Object.entries(options.env).map(([k, v]) => [k, v.replace("RECEIVER", receiver.url)]));
  const telemetry = await Telemetry.start({ ...options, config: telemetrySchema.parse(options.config ?? {}), env: telemetryEnv(env) });
  const service = await startTracedService(telemetry, scenarios);
  cleanups.push(() => receiver.close(), () => telemetry.shutdown(), () => service.close());
  return { receiver, telemetry, service };
}

const traceparent = (): { traceId: string; header: string } => {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
};

describe("tracing off", () => {
  it("makes the interceptor a pass-through, creates no span and exports nothing", async () => {
    const { receiver, telemetry, service } = await setUp({ env: { OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER" } });
    expect(telemetry.tracing).toBe(false);
    expect(telemetry.metrics).toBe(false);
    const next = async (): Promise<never> => {
      throw new Error("not called");
    };
    expect(telemetry.interceptor(next)).toBe(next);

    let header: Headers | undefined;
    await service.client.chat({ model: "gpt-4o", messages: [] }, { headers: { traceparent: traceparent().header }, onHeader: (h) => (header = h) });
    await telemetry.flush();
    expect(header?.has("x-trace-id")).toBe(false);
    expect(service.spansSeen).toEqual([{ recording: false, traceId: "0".repeat(32) }]);
    expect(receiver.requests).toEqual([]);
  });
});

describe("health checks", () => {
  it("get no span and no trace header", async () => {
    const { receiver, telemetry, service } = await setUp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" } });
    let header: Headers | undefined;
    await service.health.check({}, { onHeader: (h) => (header = h) });
    await service.client.chat({ model: "gpt-4o", messages: [] });
    await telemetry.flush();
    expect(header?.has("x-trace-id")).toBe(false);
    expect(receiver.spans.map((s) => s.name)).toEqual(["chat gpt-4o", "llm.v1.LLMService/Chat"]);
  });
});

describe("content recording", () => {
  it("puts prompt and answer on attempt spans only when recordContent is on", async () => {
    const { receiver, telemetry, service } = await setUp({
      config: { recordContent: true },
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "RECEIVER/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    });
    const call = traceparent();
    for await (const part of service.client.streamChat({ model: "flaky-stream", messages: [{ role: Role.USER, content: "What is 2+2?" }] }, { headers: { traceparent: call.header } })) void part;
    await telemetry.flush();
    const attempts = receiver.trace(call.traceId).filter((s) => s.kind === spanKind.client);
    expect(attempts).toHaveLength(3);
    const input = JSON.stringify([{ role: "user", parts: [{ type: "text", content: "What is 2+2?" }] }]);
    expect(attempts.map((a) => a.attributes["gen_ai.input.messages"])).toEqual([input, input, input]);
    const output = JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "a b c" }] }]);
    expect(attempts.map((a) => a.attributes["gen_ai.output.messages"])).toEqual([undefined, undefined, output]);
  });
});

describe("request log lines", () => {
  it("writes one JSON line per request with ids, tenant, model, provider, status, tokens, cost and latency", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
        done();
      },
    });
    const logger = createLogger({ level: "info", destination });
    const { telemetry, service } = await setUp({ logger, env: { OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER" } });
    const call = traceparent();
    const headers = { traceparent: call.header, authorization: `Bearer ${clientKey}`, "x-api-key": clientKey, "x-client-id": "team-a" };
    for await (const part of service.client.streamChat({ model: "flaky-stream", messages: [], metadata: { tenant: "acme" } }, { headers })) void part;
    await service.client.chat({ model: "broken-key", messages: [] }, { headers }).catch(() => undefined);
    logger.info({ provider: { name: "openai", apiKey: providerKey }, headers: { authorization: `Bearer ${clientKey}`, "x-api-key": clientKey } }, "config");
    await telemetry.flush();

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = parsed.filter((l) => l["msg"] === "request");
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 30,
      service: "llm-gateway",
      requestId: "req-flaky-stream",
      traceId: call.traceId,
      rpc: "llm.v1.LLMService/StreamChat",
      tenant: "acme",
      clientId: "team-a",
      model: "flaky-stream",
      provider: "azure-east",
      status: "OK",
      promptTokens: 20,
      completionTokens: 9,
      costMicros: 140,
      latencyMs: 1000,
      addedLatencyMs: 170,
      timeToFirstChunkMs: 620,
      retries: 1,
      fallbacks: 1,
      attempts: [
        { provider: "openai", model: "gpt-4o", ms: 100, error: "rate_limited" },
        { provider: "openai", model: "gpt-4o", ms: 150, error: "unavailable" },
        { provider: "azure-east", model: "gpt-4o-deployment", ms: 580 },
      ],
    });
    expect(requests[1]).toMatchObject({ level: 40, status: "INTERNAL", errorKind: "auth", attempts: [{ provider: "vllm", error: "auth" }] });
    expect(parsed.find((l) => l["msg"] === "config")).toMatchObject({ provider: { apiKey: "[REDACTED]" }, headers: { authorization: "[REDACTED]", "x-api-key": "[REDACTED]" } });
    const all = lines.join("\n");
    expect(all).not.toContain(providerKey);
    expect(all).not.toContain(clientKey);
  });
});
