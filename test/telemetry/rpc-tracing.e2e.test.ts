import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { chatPromptTokens, countTokens } from "../../src/emulator/emulator-tokens.js";
import { models, testKey, wrongKey } from "../support/gateway-harness.js";
import { spanKind, type ReceivedSpan } from "./support/received-span.js";
import {
  azureTtftMs,
  clientKey,
  costMicros,
  eventually,
  flakyFaults,
  gpt4oPrice,
  primerHoldMs,
  startTelemetryGateway,
  telemetryModels,
  type TelemetryGateway,
} from "./support/telemetry-gateway.js";

const ms = (n: number): bigint => BigInt(Math.round(n * 1_000_000));
const durationMs = (span: ReceivedSpan | undefined): number =>
  Number((span?.endTimeUnixNano ?? 0n) - (span?.startTimeUnixNano ?? 0n)) / 1_000_000;

/** A caller's trace context, and the headers of a call that carries it (and a client credential). */
function caller(): { traceId: string; spanId: string; headers: Record<string, string> } {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  return {
    traceId,
    spanId,
    headers: {
      traceparent: `00-${traceId}-${spanId}-01`,
      authorization: `Bearer ${clientKey}`,
      "x-api-key": clientKey,
      "x-client-id": "team-a",
    },
  };
}

/** A prompt of `words` words, and the tokens the emulator counts for it as the one user message. */
function prompt(words: number): { content: string; tokens: number } {
  const content = Array.from({ length: words }, (_, i) => `w${i}`).join(" ");
  return { content, tokens: chatPromptTokens([content]) };
}

describe.each(["http/json", "http/protobuf"] as const)(
  "RPC traces of the real gateway exported over OTLP %s",
  (protocol) => {
    let g: TelemetryGateway;

    beforeAll(async () => {
      g = await startTelemetryGateway({
        // Breakers that never open: each test sees its own faults only.
        providerDefaults: { circuitBreaker: { failureThreshold: 10_000, minRequests: 10_000 } },
        otelEnv: {
          OTEL_EXPORTER_OTLP_ENDPOINT: "RECEIVER",
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_SERVICE_NAME: "gateway-under-test",
        },
      });
    });
    afterEach(() => g.h.emulator.setFault(undefined));
    afterAll(() => g.close());

    /**
     * The received spans of one trace once its server span and `clientCount` attempt spans arrived: the server
     * span and its children by kind, clients in start order.
     */
    async function spansOf(
      traceId: string,
      clientCount: number,
    ): Promise<{ rpc: ReceivedSpan; clients: ReceivedSpan[]; internals: ReceivedSpan[] }> {
      const spans = await eventually(`the spans of trace ${traceId}`, () => {
        const found = g.receiver.trace(traceId);
        const complete =
          found.some((s) => s.kind === spanKind.server) &&
          found.filter((s) => s.kind === spanKind.client).length >= clientCount;
        return complete ? found : undefined;
      });
      const servers = spans.filter((s) => s.kind === spanKind.server);
      expect(servers).toHaveLength(1);
      const [rpc] = servers;
      if (rpc === undefined) throw new Error("no server span");
      const byStart = (a: ReceivedSpan, b: ReceivedSpan): number =>
        a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
      const clients = spans.filter((s) => s.kind === spanKind.client).sort(byStart);
      expect(clients).toHaveLength(clientCount);
      return { rpc, clients, internals: spans.filter((s) => s.kind === spanKind.internal) };
    }

    it("continues the caller's trace with a server span per RPC and a CLIENT span per attempt, with real usage and cost", async () => {
      const call = caller();
      const { content, tokens } = prompt(40);
      const cached = 32;
      g.h.emulator.setFault((request) =>
        request.api === "openai" ? { latencyMs: 300, cachedTokens: cached } : undefined,
      );
      let header: Headers | undefined;
      const response = await g.h.grpc.chat(
        {
          model: models.openai,
          messages: [{ role: Role.USER, content }],
          options: { maxTokens: 64 },
          metadata: { tenant: "acme", note: clientKey },
        },
        { headers: call.headers, onHeader: (h) => (header = h) },
      );
      const answer = `Echo: ${content}`;
      const completion = countTokens(answer);
      expect(response.message?.content).toBe(answer);
      expect(header?.get("x-trace-id")).toBe(call.traceId);
      expect(header?.get("traceresponse")).toMatch(new RegExp(`^00-${call.traceId}-[0-9a-f]{16}-01$`));

      const { rpc, clients } = await spansOf(call.traceId, 1);
      expect(rpc.name).toBe("llm.v1.LLMService/Chat");
      expect(rpc.parentSpanId).toBe(call.spanId);
      expect(header?.get("traceresponse")).toBe(`00-${call.traceId}-${rpc.spanId}-01`);
      expect(rpc.resource["service.name"]).toBe("gateway-under-test");
      // 14 fresh prompt tokens at 2.5, 32 cached at 1.25 and 41 output tokens at 10 USD per million: 485 micro-USD.
      const cost = costMicros(gpt4oPrice, {
        promptTokens: tokens,
        cachedPromptTokens: cached,
        completionTokens: completion,
      });
      expect(cost).toBe(485);
      expect(response.usage?.costMicros).toBe(BigInt(cost));
      expect(rpc.attributes).toMatchObject({
        "rpc.system.name": "grpc",
        "rpc.method": "llm.v1.LLMService/Chat",
        "rpc.status_code": "OK",
        "llm_gateway.request_id": header?.get("x-request-id"),
        "llm_gateway.model": models.openai,
        "llm_gateway.stream": false,
        "llm_gateway.tenant": "acme",
        "llm_gateway.client_id": "team-a",
        "llm_gateway.served.provider": "openai",
        "llm_gateway.served.provider_type": "openai",
        "llm_gateway.served.model": "gpt-4o",
        "llm_gateway.attempts": 1,
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.output_tokens": completion,
        "llm_gateway.usage.cached_input_tokens": cached,
        "llm_gateway.cache_hit": true,
        "llm_gateway.cost.micro_usd": cost,
        "llm_gateway.cost.unknown": false,
      });
      expect(rpc.status.code).toBe(0);

      const [attempt] = clients;
      expect(attempt?.name).toBe("chat gpt-4o");
      expect(attempt?.parentSpanId).toBe(rpc.spanId);
      expect(attempt?.attributes).toEqual({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.max_tokens": 64,
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": tokens,
        "gen_ai.usage.output_tokens": completion,
        "gen_ai.usage.cache_read.input_tokens": cached,
        "server.address": "127.0.0.1",
        "server.port": g.h.emulator.port,
        "llm_gateway.provider": "openai",
        "llm_gateway.attempt": 1,
      });
      // The emulator answered after 300 ms; the attempt lies within the RPC, and the rest is the gateway's own time.
      const attemptMs = durationMs(attempt);
      expect(attemptMs).toBeGreaterThanOrEqual(300);
      expect(attemptMs).toBeLessThan(5_000);
      expect(attempt?.startTimeUnixNano).toBeGreaterThanOrEqual(rpc.startTimeUnixNano);
      expect(attempt?.endTimeUnixNano).toBeLessThanOrEqual(rpc.endTimeUnixNano);
      const added = rpc.attributes["llm_gateway.added_latency_ms"];
      expect(typeof added).toBe("number");
      expect(added).toBeGreaterThanOrEqual(0);
      expect(added).toBeLessThanOrEqual(durationMs(rpc) - attemptMs + 0.01);
    });

    it("starts a new trace when the caller sends none, and returns its id", async () => {
      let header: Headers | undefined;
      await g.h.grpc.chat(
        { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
        { onHeader: (h) => (header = h) },
      );
      const traceId = header?.get("x-trace-id") ?? "";
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const { rpc, clients } = await spansOf(traceId, 1);
      expect(rpc.parentSpanId).toBe("");
      expect(header?.get("traceresponse")).toBe(`00-${traceId}-${rpc.spanId}-01`);
      expect(clients.map((c) => c.parentSpanId)).toEqual([rpc.spanId]);
    });

    it("keeps a stream's span open until the stream ends, with time to first chunk and chunk count", async () => {
      const call = caller();
      g.h.emulator.setFault((request) => (request.api === "anthropic" ? { ttftMs: 150 } : undefined));
      const deltas: string[] = [];
      for await (const part of g.h.grpc.streamChat(
        {
          model: models.anthropic,
          messages: [{ role: Role.USER, content: "one two three four five" }],
          options: { maxTokens: 4 },
        },
        { headers: call.headers },
      )) {
        if (part.delta !== "") deltas.push(part.delta);
      }
      // Cut at max_tokens: the first four tokens of "Echo: one two three four five", one chunk each.
      expect(deltas).toEqual(["Echo:", " one", " two", " three"]);
      const { rpc, clients } = await spansOf(call.traceId, 1);
      expect(rpc.name).toBe("llm.v1.LLMService/StreamChat");
      expect(rpc.attributes).toMatchObject({
        "rpc.status_code": "OK",
        "llm_gateway.stream": true,
        "llm_gateway.stream.chunks": 4,
      });
      const [attempt] = clients;
      expect(attempt?.name).toBe("chat claude-sonnet-4-20250514");
      expect(attempt?.attributes).toMatchObject({
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-sonnet-4-20250514",
        "gen_ai.request.stream": true,
        "gen_ai.request.max_tokens": 4,
        "gen_ai.response.finish_reasons": ["length"],
        "gen_ai.usage.output_tokens": 4,
        "llm_gateway.stream.chunks": 4,
      });
      // The emulator held the first chunk 150 ms; the request's first chunk came no sooner than the attempt's.
      const attemptFirst = Number(attempt?.attributes["gen_ai.response.time_to_first_chunk"]);
      const requestFirst = Number(rpc.attributes["gen_ai.response.time_to_first_chunk"]);
      expect(attemptFirst).toBeGreaterThanOrEqual(0.15);
      expect(attemptFirst).toBeLessThan(3);
      expect(requestFirst).toBeGreaterThanOrEqual(attemptFirst);
      expect(requestFirst).toBeLessThan(durationMs(rpc) / 1000);
      expect(attempt?.events.map((e) => e.name)).toEqual(["gen_ai.first_chunk"]);
      const firstChunkAfter =
        Number((attempt?.events[0]?.timeUnixNano ?? 0n) - (attempt?.startTimeUnixNano ?? 0n)) / 1e9;
      expect(firstChunkAfter).toBeCloseTo(attemptFirst, 5);
    });

    it("ends a failing stream's span with the stream's gRPC status", async () => {
      const call = caller();
      g.h.emulator.setFault((request) => (request.api === "openai" ? { status: 502 } : undefined));
      const read = async (): Promise<void> => {
        for await (const part of g.h.grpc.streamChat(
          { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
          { headers: call.headers },
        ))
          void part;
      };
      await expect(read()).rejects.toMatchObject({ code: Code.Unavailable });
      const { rpc, clients } = await spansOf(call.traceId, 1);
      expect(rpc.attributes).toMatchObject({
        "rpc.status_code": "UNAVAILABLE",
        "error.type": "UNAVAILABLE",
        "llm_gateway.error.kind": "unavailable",
      });
      expect(rpc.status.code).toBe(2);
      expect(clients[0]?.attributes["error.type"]).toBe("unavailable");
      expect(clients[0]?.status).toEqual({ code: 2, message: "openai: Bad gateway." });
    });

    it("shows a queued, retried and fallen-back stream as one trace: every attempt a child with its GenAI attributes", async () => {
      g.h.emulator.setFault(flakyFaults());
      // A 429 with retry-after-ms to another OpenAI model holds OpenAI's limiter: the stream below waits in its queue.
      const primer = caller();
      const primed = await g.h.grpc
        .chat(
          { model: telemetryModels.primer, messages: [{ role: Role.USER, content: "hi" }] },
          { headers: primer.headers },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(primed?.code).toBe(Code.ResourceExhausted);
      const primerAttempt = (await spansOf(primer.traceId, 1)).clients[0];
      expect(primerAttempt?.attributes).toMatchObject({
        "gen_ai.request.model": "gpt-4o-mini",
        "error.type": "rate_limited",
      });

      const call = caller();
      const question = "What is 2+2?";
      const deltas: string[] = [];
      for await (const part of g.h.grpc.streamChat(
        { model: telemetryModels.ha, messages: [{ role: Role.USER, content: question }], options: { maxTokens: 256 } },
        { headers: call.headers },
      )) {
        if (part.delta !== "") deltas.push(part.delta);
      }
      const answer = `Echo: ${question}`;
      expect(deltas.join("")).toBe(answer);

      const { rpc, clients, internals } = await spansOf(call.traceId, 3);
      expect(rpc.parentSpanId).toBe(call.spanId);
      expect([...clients, ...internals].every((s) => s.parentSpanId === rpc.spanId && s.traceId === call.traceId)).toBe(
        true,
      );

      expect(clients.map((c) => c.name)).toEqual(["chat gpt-4o", "chat gpt-4o", "chat gpt-4o"]);
      expect(clients.map((c) => c.attributes["gen_ai.provider.name"])).toEqual(["openai", "openai", "azure.ai.openai"]);
      expect(clients.map((c) => c.attributes["llm_gateway.provider"])).toEqual(["openai", "openai", "azure-east"]);
      expect(clients.map((c) => c.attributes["llm_gateway.attempt"])).toEqual([1, 2, 3]);
      expect(clients.map((c) => c.attributes["error.type"])).toEqual(["rate_limited", "unavailable", undefined]);
      expect(clients.map((c) => c.status.code)).toEqual([2, 2, 0]);
      expect(clients[1]?.status.message).toBe("openai: Bad gateway.");
      const promptTokens = chatPromptTokens([question]);
      const completionTokens = countTokens(answer);
      expect(clients[2]?.attributes).toMatchObject({
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stream": true,
        "gen_ai.usage.input_tokens": promptTokens,
        "gen_ai.usage.output_tokens": completionTokens,
        "gen_ai.response.finish_reasons": ["stop"],
        "llm_gateway.stream.chunks": deltas.length,
        "server.address": "127.0.0.1",
        "server.port": g.h.emulator.port,
      });
      const azureFirst = Number(clients[2]?.attributes["gen_ai.response.time_to_first_chunk"]);
      expect(azureFirst).toBeGreaterThanOrEqual(azureTtftMs / 1000);
      expect(azureFirst).toBeLessThan(3);

      // The wait in OpenAI's queue ends where the first attempt starts, no sooner than the primer's 429 asked
      // (its retry-after-ms from the primer attempt's end; timers may fire a millisecond early).
      expect(internals).toHaveLength(1);
      const [wait] = internals;
      expect(wait?.name).toBe("queue wait target:openai");
      expect(wait?.attributes["llm_gateway.limiter"]).toBe("target:openai");
      const waitedMs = Number(wait?.attributes["llm_gateway.queue.wait_ms"]);
      expect(waitedMs).toBeGreaterThan(0);
      expect(waitedMs).toBeLessThanOrEqual(primerHoldMs + 1_000);
      expect(wait?.endTimeUnixNano).toBe(clients[0]?.startTimeUnixNano);
      expect(clients[0]?.startTimeUnixNano).toBeGreaterThanOrEqual(
        (primerAttempt?.endTimeUnixNano ?? 0n) + ms(primerHoldMs - 1),
      );
      expect(Number((wait?.endTimeUnixNano ?? 0n) - (wait?.startTimeUnixNano ?? 0n) - ms(waitedMs))).toBeLessThan(
        1_000,
      );

      expect(rpc.events.map((e) => [e.name, e.attributes["llm_gateway.reason"]])).toEqual([
        ["llm_gateway.retry", "rate_limited"],
        ["llm_gateway.fallback", "unavailable"],
      ]);
      const [retry, fallback] = rpc.events;
      expect(retry?.attributes).toMatchObject({
        "llm_gateway.provider": "openai",
        "gen_ai.request.model": "gpt-4o",
        "llm_gateway.attempt": 1,
      });
      const delayMs = Number(retry?.attributes["llm_gateway.retry.delay_ms"]);
      expect(Number.isInteger(delayMs) && delayMs >= 0 && delayMs < 50).toBe(true);
      expect(retry?.timeUnixNano).toBe(clients[0]?.endTimeUnixNano);
      expect((clients[1]?.startTimeUnixNano ?? 0n) - (clients[0]?.endTimeUnixNano ?? 0n)).toBeGreaterThanOrEqual(
        ms(delayMs) - 1_000_000n,
      );
      expect(fallback?.attributes).toMatchObject({
        "llm_gateway.from.provider": "openai",
        "llm_gateway.from.model": "gpt-4o",
        "llm_gateway.to.provider": "azure-east",
        "llm_gateway.to.model": "gpt-4o",
      });
      expect(fallback?.timeUnixNano).toBe(clients[1]?.endTimeUnixNano);

      const requestFirst = Number(rpc.attributes["gen_ai.response.time_to_first_chunk"]);
      expect(requestFirst).toBeGreaterThanOrEqual((waitedMs + azureTtftMs) / 1000);
      expect(rpc.attributes).toMatchObject({
        "llm_gateway.attempts": 3,
        "llm_gateway.served.provider": "azure-east",
        "llm_gateway.served.model": "gpt-4o",
        "gen_ai.usage.input_tokens": promptTokens,
        "gen_ai.usage.output_tokens": completionTokens,
        "llm_gateway.usage.cached_input_tokens": 0,
        "llm_gateway.cost.micro_usd": costMicros(gpt4oPrice, { promptTokens, cachedPromptTokens: 0, completionTokens }),
        "llm_gateway.cost.unknown": false,
        "llm_gateway.cache_hit": false,
        "llm_gateway.stream.chunks": deltas.length,
      });
      // Queue wait and retry back-off are the gateway's own time, outside every attempt.
      expect(Number(rpc.attributes["llm_gateway.added_latency_ms"])).toBeGreaterThanOrEqual(waitedMs + delayMs - 1);
    });

    it("marks a failed unary call's span with its status and returns the trace id in the error metadata", async () => {
      const call = caller();
      const error = await g.h.grpc
        .chat({ model: models.wrongKey, messages: [{ role: Role.USER, content: "hi" }] }, { headers: call.headers })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(Code.Internal);
      expect(error?.metadata.get("x-trace-id")).toBe(call.traceId);
      const { rpc, clients } = await spansOf(call.traceId, 1);
      expect(error?.metadata.get("traceresponse")).toBe(`00-${call.traceId}-${rpc.spanId}-01`);
      expect(rpc.attributes).toMatchObject({
        "rpc.status_code": "INTERNAL",
        "error.type": "INTERNAL",
        "llm_gateway.error.kind": "auth",
      });
      expect(rpc.status.code).toBe(2);
      expect(clients[0]?.attributes).toMatchObject({
        "gen_ai.provider.name": "openai",
        "llm_gateway.provider": "openai-misconfigured",
        "error.type": "auth",
      });
      expect(clients[0]?.status).toEqual({ code: 2, message: "the provider rejected the gateway's credentials" });
    });

    it("never exports the provider keys, the client key, request metadata or content", async () => {
      const call = caller();
      // The provider echoes the caller's credential in its error message.
      g.h.emulator.setFault((request) =>
        request.api === "openai" ? { status: 502, errorMessage: `upstream said: Bearer ${clientKey}` } : undefined,
      );
      const error = await g.h.grpc
        .chat(
          {
            model: models.openai,
            messages: [{ role: Role.USER, content: "secret prompt" }],
            metadata: { note: clientKey },
          },
          { headers: call.headers },
        )
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(error?.code).toBe(Code.Unavailable);
      const { clients } = await spansOf(call.traceId, 1);
      expect(clients[0]?.status.message).toBe("openai: upstream said: Bearer [redacted]");
      // The misconfigured provider's 401 quotes part of its key.
      const second = caller();
      await g.h.grpc
        .chat(
          { model: models.wrongKey, messages: [{ role: Role.USER, content: "secret prompt" }] },
          { headers: second.headers },
        )
        .catch(() => undefined);
      await spansOf(second.traceId, 1);

      const exported = g.receiver.allText();
      expect(new Set(g.receiver.requests.map((r) => r.contentType))).toEqual(
        new Set([protocol === "http/json" ? "application/json" : "application/x-protobuf"]),
      );
      expect(exported).toContain("llm_gateway.request_id");
      for (const secret of [
        testKey,
        wrongKey,
        wrongKey.slice(0, 8),
        clientKey,
        "secret prompt",
        "gen_ai.input.messages",
      ])
        expect(exported).not.toContain(secret);
    });
  },
);
