import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { telemetrySchema } from "../../src/config/telemetry-schema.js";
import { chatPromptTokens, countTokens } from "../../src/emulator/emulator-tokens.js";
import { Telemetry } from "../../src/telemetry/telemetry.js";
import { models, testKey, wrongKey } from "../support/gateway-harness.js";
import { Scrape } from "./support/prometheus-scrape.js";
import { spanKind } from "./support/received-span.js";
import {
  azureTtftMs,
  clientKey,
  costMicros,
  eventually,
  flakyFaults,
  gpt4oPrice,
  startTelemetryGateway,
  telemetryModels,
  type TelemetryGateway,
} from "./support/telemetry-gateway.js";

const gateways: TelemetryGateway[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.close();
});

async function start(options: Parameters<typeof startTelemetryGateway>[0]): Promise<TelemetryGateway> {
  const g = await startTelemetryGateway(options);
  gateways.push(g);
  return g;
}

const traceparent = (): { traceId: string; header: string } => {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
};

const requestLines = (g: TelemetryGateway): Record<string, unknown>[] => g.lines.filter((l) => l["msg"] === "request");

describe("tracing off", () => {
  const env = { OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER" };

  it("makes the interceptor a pass-through", async () => {
    const telemetry = await Telemetry.start({
      config: telemetrySchema.parse({}),
      env: telemetryEnv({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:1" }),
    });
    expect(telemetry.tracing).toBe(false);
    expect(telemetry.metrics).toBe(false);
    const next = async (): Promise<never> => {
      throw new Error("not called");
    };
    expect(telemetry.interceptor(next)).toBe(next);
    await telemetry.shutdown();
  });

  it("the gateway creates no span, returns no trace header, logs no trace id and exports nothing", async () => {
    const g = await start({ otelEnv: env });
    expect(g.listening()).toMatchObject({ tracing: false, metrics: false });
    const call = traceparent();
    let header: Headers | undefined;
    await g.h.grpc.chat(
      { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
      { headers: { traceparent: call.header }, onHeader: (h) => (header = h) },
    );
    expect(header?.get("x-request-id")).toMatch(/\S/);
    expect(header?.has("x-trace-id")).toBe(false);
    expect(header?.has("traceresponse")).toBe(false);
    // The handler's span was the non-recording placeholder: the request line carries no trace or span id.
    const [line] = requestLines(g);
    expect(line).toMatchObject({ requestId: header?.get("x-request-id"), status: "OK" });
    expect(line).not.toHaveProperty("traceId");
    expect(line).not.toHaveProperty("spanId");
    expect(JSON.stringify(g.lines)).not.toContain(call.traceId);
    await g.closeGateway(); // flushes and shuts down whatever exporters there are
    expect(g.receiver.requests).toEqual([]);
  });
});

describe("metrics only", () => {
  it("serves the Prometheus endpoint and counts requests, with no span, no trace header and nothing exported", async () => {
    const g = await start({
      telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
      otelEnv: { OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER" },
    });
    expect(g.listening()).toMatchObject({
      tracing: false,
      metrics: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/),
    });
    let header: Headers | undefined;
    await g.h.grpc.chat(
      { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
      { headers: { traceparent: traceparent().header }, onHeader: (h) => (header = h) },
    );
    expect(header?.has("x-trace-id")).toBe(false);
    const scrape = await Scrape.of(g.prometheusUrl());
    expect(
      scrape.value("llm_gateway_requests_total", { rpc_method: "llm.v1.LLMService/Chat", rpc_status_code: "OK" }),
    ).toBe(1);
    expect(scrape.value("llm_gateway_requests_in_flight", { rpc_method: "llm.v1.LLMService/Chat" })).toBe(0);
    expect(requestLines(g)[0]).not.toHaveProperty("traceId");
    await g.closeGateway();
    expect(g.receiver.requests).toEqual([]);
  });
});

describe("health checks", () => {
  it("get no span and no trace header", async () => {
    const g = await start({
      otelEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    });
    expect(g.listening()).toMatchObject({ tracing: true });
    let header: Headers | undefined;
    const health = await g.health.check({}, { onHeader: (h) => (header = h) });
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(header?.get("content-type")).toMatch(/^application\/grpc/);
    expect(header?.has("x-trace-id")).toBe(false);
    expect(header?.has("traceresponse")).toBe(false);
    let chatHeader: Headers | undefined;
    await g.h.grpc.chat(
      { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
      { onHeader: (h) => (chatHeader = h) },
    );
    expect(chatHeader?.get("x-trace-id")).toMatch(/^[0-9a-f]{32}$/);
    // Spans are exported in the order they end: once the chat's server span is in, the health check's would be too.
    await eventually("the chat's server span", () =>
      g.receiver.spans.some((s) => s.kind === spanKind.server) ? true : undefined,
    );
    expect(g.receiver.spans.map((s) => s.name)).toEqual(["chat gpt-4o", "llm.v1.LLMService/Chat"]);
  });
});

describe("content recording", () => {
  it("puts prompt and answer on attempt spans only when recordContent is on", async () => {
    const g = await start({
      telemetry: { recordContent: true },
      otelEnv: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "RECEIVER/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    });
    g.h.emulator.setFault(flakyFaults());
    const call = traceparent();
    for await (const part of g.h.grpc.streamChat(
      { model: telemetryModels.ha, messages: [{ role: Role.USER, content: "What is 2+2?" }] },
      { headers: { traceparent: call.header } },
    ))
      void part;
    const attempts = await eventually("three attempt spans", () => {
      const found = g.receiver.trace(call.traceId).filter((s) => s.kind === spanKind.client);
      return found.length === 3
        ? found.sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1))
        : undefined;
    });
    expect(attempts.map((a) => a.attributes["llm_gateway.provider"])).toEqual(["openai", "openai", "azure-east"]);
    const input = JSON.stringify([{ role: "user", parts: [{ type: "text", content: "What is 2+2?" }] }]);
    expect(attempts.map((a) => a.attributes["gen_ai.input.messages"])).toEqual([input, input, input]);
    const output = JSON.stringify([{ role: "assistant", parts: [{ type: "text", content: "Echo: What is 2+2?" }] }]);
    expect(attempts.map((a) => a.attributes["gen_ai.output.messages"])).toEqual([undefined, undefined, output]);
  });

  it("leaves prompt and answer off the spans by default", async () => {
    const g = await start({
      otelEnv: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "RECEIVER/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" },
    });
    const call = traceparent();
    await g.h.grpc.chat(
      { model: models.openai, messages: [{ role: Role.USER, content: "What is 2+2?" }] },
      { headers: { traceparent: call.header } },
    );
    const [attempt] = await eventually("the attempt span", () => {
      const found = g.receiver.trace(call.traceId).filter((s) => s.kind === spanKind.client);
      return found.length === 1 ? found : undefined;
    });
    expect(attempt?.attributes).not.toHaveProperty("gen_ai.input.messages");
    expect(attempt?.attributes).not.toHaveProperty("gen_ai.output.messages");
    expect(g.receiver.allText()).not.toContain("What is 2+2?");
  });
});

describe("request log lines", () => {
  it("writes one JSON line per request with ids, tenant, model, provider, status, tokens, cost and latency", async () => {
    const g = await start({ otelEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER" } });
    g.h.emulator.setFault(flakyFaults());
    // The primer's 429 (retry-after-ms) holds OpenAI's limiter: the stream waits in its queue first.
    const primed = await g.h.grpc
      .chat({ model: telemetryModels.primer, messages: [{ role: Role.USER, content: "hi" }] })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(primed?.code).toBe(Code.ResourceExhausted);

    const call = traceparent();
    const headers = {
      traceparent: call.header,
      authorization: `Bearer ${clientKey}`,
      "x-api-key": clientKey,
      "x-client-id": "team-a",
    };
    const question = "What is 2+2?";
    let streamHeader: Headers | undefined;
    let deltas = 0;
    for await (const part of g.h.grpc.streamChat(
      { model: telemetryModels.ha, messages: [{ role: Role.USER, content: question }], metadata: { tenant: "acme" } },
      { headers, onHeader: (h) => (streamHeader = h) },
    )) {
      if (part.delta !== "") deltas += 1;
    }
    const broken = await g.h.grpc
      .chat({ model: models.wrongKey, messages: [{ role: Role.USER, content: "hi" }] }, { headers })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(broken?.code).toBe(Code.Internal);
    g.logger.info(
      {
        provider: { name: "openai", apiKey: testKey },
        headers: { authorization: `Bearer ${clientKey}`, "x-api-key": clientKey },
      },
      "config",
    );

    const requests = requestLines(g);
    expect(requests).toHaveLength(3);
    const streamLine = requests.find((l) => l["requestId"] === streamHeader?.get("x-request-id"));
    const promptTokens = chatPromptTokens([question]);
    const completionTokens = countTokens(`Echo: ${question}`);
    expect(streamLine).toMatchObject({
      level: 30,
      service: "llm-gateway",
      traceId: call.traceId,
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      rpc: "llm.v1.LLMService/StreamChat",
      tenant: "acme",
      clientId: "team-a",
      model: telemetryModels.ha,
      provider: "azure-east",
      providerModel: "gpt-4o",
      status: "OK",
      stream: true,
      promptTokens,
      completionTokens,
      cachedTokens: 0,
      costMicros: costMicros(gpt4oPrice, { promptTokens, cachedPromptTokens: 0, completionTokens }),
      costUnknown: false,
      chunks: deltas,
      retries: 1,
      fallbacks: 1,
      attempts: [
        { provider: "openai", model: "gpt-4o", ms: expect.any(Number), error: "rate_limited" },
        { provider: "openai", model: "gpt-4o", ms: expect.any(Number), error: "unavailable" },
        { provider: "azure-east", model: "gpt-4o", ms: expect.any(Number) },
      ],
    });
    const timing = streamLine as {
      latencyMs: number;
      providerMs: number;
      addedLatencyMs: number;
      timeToFirstChunkMs: number;
      attempts: { ms: number }[];
    };
    // Attempts do not overlap here: provider time is their sum, the rest is the gateway's (queue wait included).
    const attemptMs = timing.attempts.reduce((sum, a) => sum + a.ms, 0);
    expect(timing.providerMs).toBeCloseTo(attemptMs, 0);
    expect(timing.latencyMs).toBeCloseTo(timing.providerMs + timing.addedLatencyMs, 0);
    // The wait in OpenAI's queue (what remained of the primer's hold) is gateway time.
    expect(timing.addedLatencyMs).toBeGreaterThan(0);
    expect(timing.addedLatencyMs).toBeLessThan(timing.latencyMs);
    expect(timing.attempts[2]?.ms).toBeGreaterThanOrEqual(azureTtftMs);
    // The first chunk came after both failed attempts and Azure's delay.
    const [first, second] = timing.attempts;
    expect(timing.timeToFirstChunkMs).toBeGreaterThanOrEqual((first?.ms ?? 0) + (second?.ms ?? 0) + azureTtftMs - 0.5);
    expect(timing.timeToFirstChunkMs).toBeLessThanOrEqual(timing.latencyMs);

    const brokenLine = requests.find((l) => l["requestId"] === broken?.metadata.get("x-request-id"));
    expect(brokenLine).toMatchObject({
      level: 40,
      status: "INTERNAL",
      errorKind: "auth",
      model: models.wrongKey,
      costMicros: 0,
      attempts: [{ provider: "openai-misconfigured", model: "gpt-4o", error: "auth" }],
    });
    expect(requests.find((l) => l["model"] === telemetryModels.primer)).toMatchObject({
      level: 30,
      status: "RESOURCE_EXHAUSTED",
      errorKind: "rate_limited",
    });

    expect(g.lines.find((l) => l["msg"] === "config")).toMatchObject({
      provider: { name: "openai", apiKey: "[REDACTED]" },
      headers: { authorization: "[REDACTED]", "x-api-key": "[REDACTED]" },
    });
    const all = JSON.stringify(g.lines);
    for (const secret of [testKey, wrongKey, wrongKey.slice(0, 8), clientKey]) expect(all).not.toContain(secret);
  });
});
