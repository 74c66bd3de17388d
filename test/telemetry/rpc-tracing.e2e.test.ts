import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { telemetrySchema } from "../../src/config/telemetry-schema.js";
import { Telemetry } from "../../src/telemetry/telemetry.js";
import { OtlpReceiver } from "./support/otlp-receiver.js";
import { spanKind, type ReceivedSpan } from "./support/received-span.js";
import { clientKey, providerKey, scenarios } from "./support/scenarios.js";
import { startTracedService, type TracedService } from "./support/traced-service.js";

const ms = (n: number): bigint => BigInt(n) * 1_000_000n;

/** A caller's trace context, and the headers of a call that carries it (and a client credential). */
function caller(): { traceId: string; spanId: string; headers: Record<string, string> } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return {
    traceId,
    spanId,
    headers: { traceparent: `00-${traceId}-${spanId}-01`, authorization: `Bearer ${clientKey}`, "x-api-key": clientKey, "x-client-id": "team-a" },
  };
}

describe.each(["http/json", "http/protobuf"] as const)("RPC traces exported over OTLP %s", (protocol) => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let service: TracedService;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    telemetry = await Telemetry.start({
      config: telemetrySchema.parse({}),
      env: telemetryEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "gateway-under-test" }),
      providers: [
        { name: "openai", type: "openai" },
        { name: "azure-east", type: "azure", baseUrl: "https://east.openai.azure.com/" },
      ],
    });
    service = await startTracedService(telemetry, scenarios);
  });
  afterAll(async () => {
    await service.close();
    await telemetry.shutdown();
    await receiver.close();
  });

  /** The received spans of one trace: the server span and its children by kind, clients in start order. */
  async function spansOf(traceId: string): Promise<{ rpc: ReceivedSpan; clients: ReceivedSpan[]; internals: ReceivedSpan[] }> {
    await telemetry.flush();
    const spans = receiver.trace(traceId);
    const servers = spans.filter((s) => s.kind === spanKind.server);
    expect(servers).toHaveLength(1);
    const [rpc] = servers;
    if (rpc === undefined) throw new Error("no server span");
    const byStart = (a: ReceivedSpan, b: ReceivedSpan): number => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1);
    return {
      rpc,
      clients: spans.filter((s) => s.kind === spanKind.client).sort(byStart),
      internals: spans.filter((s) => s.kind === spanKind.internal),
    };
  }

  it("continues the caller's trace with a server span per RPC and a CLIENT span per attempt", async () => {
    const call = caller();
    let header: Headers | undefined;
    const response = await service.client.chat(
      { model: "gpt-4o", messages: [{ role: Role.USER, content: "hi" }], metadata: { tenant: "acme", note: clientKey } },
      { headers: call.headers, onHeader: (h) => (header = h) },
    );
    expect(response.message?.content).toBe("Hello there");
    expect(header?.get("x-trace-id")).toBe(call.traceId);
    expect(header?.get("traceresponse")).toMatch(new RegExp(`^00-${call.traceId}-[0-9a-f]{16}-01$`));

    const { rpc, clients } = await spansOf(call.traceId);
    expect(rpc.name).toBe("llm.v1.LLMService/Chat");
    expect(rpc.parentSpanId).toBe(call.spanId);
    expect(header?.get("traceresponse")).toContain(rpc.spanId);
    expect(rpc.resource["service.name"]).toBe("gateway-under-test");
    expect(rpc.attributes).toMatchObject({
      "rpc.system.name": "grpc",
      "rpc.method": "llm.v1.LLMService/Chat",
      "rpc.status_code": "OK",
      "llm_gateway.request_id": "req-gpt-4o",
      "llm_gateway.model": "gpt-4o",
      "llm_gateway.tenant": "acme",
      "llm_gateway.client_id": "team-a",
      "llm_gateway.served.provider": "openai",
      "llm_gateway.served.model": "gpt-4o",
      "llm_gateway.attempts": 1,
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
      "llm_gateway.usage.cached_input_tokens": 100,
      "llm_gateway.cache_hit": true,
      "llm_gateway.cost.micro_usd": 425,
      "llm_gateway.cost.unknown": false,
      "llm_gateway.added_latency_ms": 20,
    });
    expect(rpc.status.code).toBe(0);

    expect(clients).toHaveLength(1);
    const [attempt] = clients;
    expect(attempt?.name).toBe("chat gpt-4o");
    expect(attempt?.parentSpanId).toBe(rpc.spanId);
    expect(attempt?.attributes).toEqual({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o",
      "gen_ai.request.max_tokens": 64,
      "gen_ai.response.model": "gpt-4o-2024-08-06",
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
      "gen_ai.usage.cache_read.input_tokens": 100,
      "server.address": "api.openai.com",
      "server.port": 443,
      "llm_gateway.provider": "openai",
      "llm_gateway.attempt": 1,
    });
    expect((attempt?.endTimeUnixNano ?? 0n) - (attempt?.startTimeUnixNano ?? 0n)).toBe(ms(300));
  });

  it("starts a new trace when the caller sends none, and returns its id", async () => {
    let header: Headers | undefined;
    await service.client.chat({ model: "gpt-4o", messages: [] }, { onHeader: (h) => (header = h) });
    const traceId = header?.get("x-trace-id") ?? "";
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const { rpc, clients } = await spansOf(traceId);
    expect(rpc.parentSpanId).toBe("");
    expect(clients.map((c) => c.parentSpanId)).toEqual([rpc.spanId]);
  });

  it("keeps a stream's span open until the stream ends, with time to first chunk and chunk count", async () => {
    const call = caller();
    const deltas: string[] = [];
    for await (const part of service.client.streamChat({ model: "claude-stream", messages: [{ role: Role.USER, content: "count" }] }, { headers: call.headers })) {
      deltas.push(part.delta);
    }
    expect(deltas).toEqual(["one ", "two ", "three ", "four"]);
    const { rpc, clients } = await spansOf(call.traceId);
    expect(rpc.name).toBe("llm.v1.LLMService/StreamChat");
    expect(rpc.attributes).toMatchObject({
      "rpc.status_code": "OK",
      "llm_gateway.stream": true,
      "llm_gateway.stream.chunks": 4,
      "gen_ai.response.time_to_first_chunk": 0.15,
    });
    expect(clients).toHaveLength(1);
    expect(clients[0]?.name).toBe("chat claude-sonnet-4-20250514");
    expect(clients[0]?.attributes).toMatchObject({
      "gen_ai.provider.name": "anthropic",
      "gen_ai.request.stream": true,
      "gen_ai.response.time_to_first_chunk": 0.13,
      "gen_ai.response.finish_reasons": ["length"],
      "llm_gateway.stream.chunks": 4,
    });
    expect(clients[0]?.events.map((e) => e.name)).toEqual(["gen_ai.first_chunk"]);
  });

  it("ends a failing stream's span with the stream's gRPC status", async () => {
    const call = caller();
    const read = async (): Promise<void> => {
      for await (const part of service.client.streamChat({ model: "down", messages: [] }, { headers: call.headers })) void part;
    };
    await expect(read()).rejects.toMatchObject({ code: Code.Unavailable });
    const { rpc } = await spansOf(call.traceId);
    expect(rpc.attributes).toMatchObject({ "rpc.status_code": "UNAVAILABLE", "error.type": "UNAVAILABLE", "llm_gateway.error.kind": "unavailable" });
    expect(rpc.status.code).toBe(2);
  });

  it("shows a queued, retried and fallen-back stream as one trace: every attempt a child with its GenAI attributes", async () => {
    const call = caller();
    const deltas: string[] = [];
    for await (const part of service.client.streamChat({ model: "flaky-stream", messages: [] }, { headers: call.headers })) deltas.push(part.delta);
    expect(deltas.join("")).toBe("a b c");

    const { rpc, clients, internals } = await spansOf(call.traceId);
    expect(rpc.parentSpanId).toBe(call.spanId);
    expect([...clients, ...internals].every((s) => s.parentSpanId === rpc.spanId && s.traceId === call.traceId)).toBe(true);

    expect(clients.map((c) => c.name)).toEqual(["chat gpt-4o", "chat gpt-4o", "chat gpt-4o-deployment"]);
    expect(clients.map((c) => c.attributes["gen_ai.provider.name"])).toEqual(["openai", "openai", "azure.ai.openai"]);
    expect(clients.map((c) => c.attributes["llm_gateway.attempt"])).toEqual([1, 2, 3]);
    expect(clients.map((c) => c.attributes["error.type"])).toEqual(["rate_limited", "unavailable", undefined]);
    expect(clients.map((c) => c.status.code)).toEqual([2, 2, 0]);
    expect(clients[1]?.status.message).toBe("502 Bad Gateway");
    expect(clients[2]?.attributes).toMatchObject({
      "gen_ai.request.model": "gpt-4o-deployment",
      "gen_ai.response.model": "gpt-4o-2024-11-20",
      "gen_ai.request.max_tokens": 256,
      "gen_ai.usage.input_tokens": 20,
      "gen_ai.usage.output_tokens": 9,
      "gen_ai.response.finish_reasons": ["stop"],
      "gen_ai.response.time_to_first_chunk": 0.19,
      "server.address": "east.openai.azure.com",
      "llm_gateway.provider": "azure-east",
    });

    expect(internals).toHaveLength(1);
    expect(internals[0]?.name).toBe("queue wait openai-rpm");
    expect(internals[0]?.endTimeUnixNano).toBe(clients[0]?.startTimeUnixNano);
    expect((internals[0]?.endTimeUnixNano ?? 0n) - (internals[0]?.startTimeUnixNano ?? 0n)).toBe(ms(40));

    expect(rpc.events.map((e) => [e.name, e.attributes["llm_gateway.reason"]])).toEqual([
      ["llm_gateway.retry", "rate_limited"],
      ["llm_gateway.fallback", "unavailable"],
    ]);
    expect(rpc.events[0]?.attributes).toMatchObject({ "llm_gateway.provider": "openai", "llm_gateway.retry.delay_ms": 100, "llm_gateway.attempt": 1 });
    expect(rpc.events[0]?.timeUnixNano).toBe(clients[0]?.endTimeUnixNano);
    expect(rpc.events[1]?.attributes).toMatchObject({ "llm_gateway.from.provider": "openai", "llm_gateway.to.provider": "azure-east" });
    expect(rpc.events[1]?.timeUnixNano).toBe(clients[1]?.endTimeUnixNano);
    expect(rpc.attributes).toMatchObject({
      "llm_gateway.attempts": 3,
      "llm_gateway.served.provider": "azure-east",
      "gen_ai.usage.input_tokens": 20,
      "gen_ai.usage.output_tokens": 9,
      "llm_gateway.cost.micro_usd": 140,
      "llm_gateway.cache_hit": false,
      "llm_gateway.stream.chunks": 3,
      "gen_ai.response.time_to_first_chunk": 0.62,
      "llm_gateway.added_latency_ms": 170,
    });
  });

  it("marks a failed unary call's span with its status and returns the trace id in the error metadata", async () => {
    const call = caller();
    const error = await service.client.chat({ model: "broken-key", messages: [] }, { headers: call.headers }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(error?.code).toBe(Code.Internal);
    expect(error?.metadata.get("x-trace-id")).toBe(call.traceId);
    const { rpc, clients } = await spansOf(call.traceId);
    expect(rpc.attributes).toMatchObject({ "rpc.status_code": "INTERNAL", "llm_gateway.error.kind": "auth" });
    expect(rpc.status.code).toBe(2);
    expect(clients[0]?.attributes).toMatchObject({ "gen_ai.provider.name": "vllm", "error.type": "auth" });
    expect(clients[0]?.status.message).toBe("the provider rejected the gateway's credentials");
  });

  it("never exports the provider key, the client key, request metadata or content", async () => {
    const call = caller();
    await service.client.chat({ model: "down", messages: [{ role: Role.USER, content: "secret prompt" }] }, { headers: call.headers }).catch(() => undefined);
    const { clients } = await spansOf(call.traceId);
    expect(clients[0]?.status.message).toBe("upstream said: [REDACTED]");
    const exported = receiver.allText();
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(new Set(receiver.requests.map((r) => r.contentType))).toEqual(new Set([protocol === "http/json" ? "application/json" : "application/x-protobuf"]));
    expect(exported).toContain("llm_gateway.request_id");
    expect(exported).not.toContain(providerKey);
    expect(exported).not.toContain(clientKey);
    expect(exported).not.toContain("secret prompt");
    expect(exported).not.toContain("gen_ai.input.messages");
  });
});
