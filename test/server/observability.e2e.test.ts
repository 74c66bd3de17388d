import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, type StreamChatResponse } from "../../gen/llm/v1/llm_service_pb.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { OtlpReceiver } from "../telemetry/support/otlp-receiver.js";
import { spanKind } from "../telemetry/support/received-span.js";
import { startHarness, testKey, type Harness } from "../support/gateway-harness.js";

const clientKey = "ck-caller-secret-5f3a9e1d7c";
const lines: string[] = [];
let receiver: OtlpReceiver;
let h: Harness;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l !== ""),
      );
      done();
    },
  });
  h = await startHarness({
    // The OpenAI target is down (503); Azure answers.
    emulator: { fault: (request) => (request.api === "openai" ? { status: 503 } : undefined) },
    pipeline: { retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, budget: { ratio: 1, minPerSecond: 10 } } },
    extraModels: [
      {
        name: "gpt-4o-ha",
        targets: [
          { provider: "openai", model: "gpt-4o" },
          { provider: "azure-east", model: "gpt-4o" },
        ],
      },
    ],
    telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
    otelEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "llm-gateway-e2e",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    },
    logger: createLogger({ level: "info", destination }),
  });
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

describe("a streaming request that retries once and falls back once", () => {
  it("forms one trace under the caller's span, an attempt span each with GenAI attributes, and Prometheus histograms", async () => {
    const traceId = randomBytes(16).toString("hex");
    const parentId = randomBytes(8).toString("hex");
    const headers = {
      traceparent: `00-${traceId}-${parentId}-01`,
      authorization: `Bearer ${clientKey}`,
      "x-client-id": "team-a",
    };
    let text = "";
    let final: StreamChatResponse | undefined;
    for await (const chunk of h.grpc.streamChat(
      {
        model: "gpt-4o-ha",
        messages: [{ role: Role.USER, content: "trace me please" }],
        options: { maxTokens: 50 },
        metadata: { tenant: "acme" },
      },
      { headers },
    )) {
      text += chunk.delta;
      if (chunk.usage) final = chunk;
    }
    expect(text).toBe("Echo: trace me please");
    expect(final?.metadata).toMatchObject({ provider: "azure-east", attempts: 3 });

    const prometheusUrl = lines
      .map((l) => JSON.parse(l) as { msg?: string; metrics?: unknown })
      .find((l) => l.msg === "llm-gateway listening")?.metrics;
    expect(typeof prometheusUrl).toBe("string");
    const body = await (await fetch(String(prometheusUrl))).text();
    expect(body).toMatch(/gen_ai_client_token_usage_bucket\{[^}]*gen_ai_token_type="input"/);
    expect(body).toMatch(/gen_ai_client_operation_duration(_seconds)?_bucket\{/);

    await h.gateway.close(); // flushes the exporters
    const spans = receiver.trace(traceId);
    const rpc = spans.find((s) => s.kind === spanKind.server);
    expect(rpc?.name).toBe("llm.v1.LLMService/StreamChat");
    expect(rpc?.parentSpanId).toBe(parentId);
    const attempts = spans
      .filter((s) => s.kind === spanKind.client)
      .sort((a, b) => Number(a.startTimeUnixNano - b.startTimeUnixNano));
    expect(attempts.map((s) => s.name)).toEqual(["chat gpt-4o", "chat gpt-4o", "chat gpt-4o"]);
    expect(attempts.every((s) => s.parentSpanId === rpc?.spanId)).toBe(true);
    expect(attempts.map((s) => s.attributes["gen_ai.provider.name"])).toEqual(["openai", "openai", "azure.ai.openai"]);
    expect(attempts.slice(0, 2).map((s) => s.attributes["error.type"])).toEqual(["overloaded", "overloaded"]);
    expect(attempts[2]?.attributes["error.type"]).toBeUndefined();
    expect(attempts[2]?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.response.model": "gpt-4o",
      "gen_ai.request.max_tokens": 50,
      "gen_ai.usage.input_tokens": 9,
      "gen_ai.usage.output_tokens": 4,
      "gen_ai.response.finish_reasons": ["stop"],
    });
    const events = rpc?.events.map((e) => e.name) ?? [];
    expect(events.some((name) => name.includes("retry"))).toBe(true);
    expect(events.some((name) => name.includes("fallback"))).toBe(true);
  });

  it("writes one request line per request and never a provider key or a client key", () => {
    const requestLines = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ tenant: "acme", model: "gpt-4o-ha" });
    const everything = `${lines.join("\n")}\n${receiver.allText()}`;
    expect(everything).not.toContain(testKey);
    expect(everything).not.toContain(clientKey);
    expect(receiver.spans.length).toBeGreaterThan(0);
  });
});
