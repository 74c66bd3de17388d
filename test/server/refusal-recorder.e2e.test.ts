import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { eventually, startTelemetryGateway, type TelemetryGateway } from "../telemetry/support/telemetry-gateway.js";
import { Scrape } from "../telemetry/support/prometheus-scrape.js";
import { adminKey, bearer, createKey } from "../support/cost-control-helpers.js";
import { models } from "../support/gateway-harness.js";
import { rawGrpcCall } from "../support/raw-grpc-call.js";

/**
 * Issue "The first hour": requests the gateway itself refuses (no key, invalid, a stream refused before its
 * first message) are one request log line and one count in llm_gateway_requests_total each, with their code.
 */

let t: TelemetryGateway;
beforeAll(async () => {
  t = await startTelemetryGateway({
    adminKey,
    otelEnv: {},
    // Small enough that a refused body fits in HTTP/2's initial flow-control window (see node-adapter.ts).
    server: { maxRequestBytes: 16 * 1024 },
    telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
  });
});
afterAll(() => t.close());

const refusal = (run: () => Promise<unknown>): Promise<ConnectError> =>
  run().then(
    () => {
      throw new Error("expected a refusal");
    },
    (error: unknown) => ConnectError.from(error),
  );

function requestLines(rpc: string, status: string): Record<string, unknown>[] {
  return t.lines.filter((l) => l["msg"] === "request" && l["rpc"] === rpc && l["status"] === status);
}

describe("refused requests are logged and counted", () => {
  it("logs and counts a call without a client key (UNAUTHENTICATED), unary and streaming", async () => {
    const client = createClient(LLMService, createGrpcTransport({ baseUrl: t.h.gateway.url }));
    const request = { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] };
    expect((await refusal(() => client.chat(request))).code).toBe(Code.Unauthenticated);
    expect(
      (
        await refusal(async () => {
          for await (const _ of client.streamChat(request)) {
            /* none */
          }
        })
      ).code,
    ).toBe(Code.Unauthenticated);
    const unary = await eventually(
      "the Chat refusal's log line",
      () => requestLines("llm.v1.LLMService/Chat", "UNAUTHENTICATED")[0],
    );
    expect(unary).toMatchObject({ model: models.openai, errorKind: "unauthenticated", stream: false });
    expect(typeof unary["requestId"]).toBe("string");
    await eventually(
      "the StreamChat refusal's log line",
      () => requestLines("llm.v1.LLMService/StreamChat", "UNAUTHENTICATED")[0],
    );
    const scrape = await Scrape.of(t.prometheusUrl());
    expect(
      scrape.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/Chat",
        rpc_status_code: "UNAUTHENTICATED",
      }),
    ).toBe(1);
    expect(
      scrape.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/StreamChat",
        rpc_status_code: "UNAUTHENTICATED",
      }),
    ).toBe(1);
  });

  it("logs an invalid request once with INVALID_ARGUMENT, as the key's call", async () => {
    const key = await createKey(t.h, { tenant: "team-r", name: "refusals" });
    const client = createClient(LLMService, createGrpcTransport({ baseUrl: t.h.gateway.url }));
    const error = await refusal(() => client.chat({ model: models.openai, messages: [] }, bearer(key.secret)));
    expect(error.code).toBe(Code.InvalidArgument);
    const line = await eventually(
      "the invalid request's log line",
      () => requestLines("llm.v1.LLMService/Chat", "INVALID_ARGUMENT")[0],
    );
    expect(line).toMatchObject({ tenant: "team-r", errorKind: "invalid_request" });
    expect(requestLines("llm.v1.LLMService/Chat", "INVALID_ARGUMENT")).toHaveLength(1);
  });

  it("logs and counts calls refused before any interceptor ran, in every protocol: too large, not decodable", async () => {
    const url = t.h.gateway.url;
    const transports = {
      grpc: createGrpcTransport({ baseUrl: url }),
      grpcWeb: createGrpcWebTransport({ baseUrl: url, httpVersion: "1.1" }),
      connect: createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    };
    const big = { model: models.openai, messages: [{ role: Role.USER, content: "x".repeat(20 * 1024) }] };
    // Streams pass the key check before their message is read: they need a key to reach the size check.
    const { secret } = await createKey(t.h, { tenant: "team-s", name: "sizes" });
    for (const transport of Object.values(transports)) {
      const client = createClient(LLMService, transport);
      expect((await refusal(() => client.embed({ model: models.embed, inputs: ["x".repeat(20 * 1024)] }))).code).toBe(
        Code.InvalidArgument,
      );
      const stream = await refusal(async () => {
        for await (const _ of client.streamChat(big, bearer(secret))) {
          /* none */
        }
      });
      expect(stream.code).toBe(Code.InvalidArgument);
    }
    // Connect unary and gRPC bodies that do not decode.
    const connect = await fetch(`${url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(connect.status).toBe(400);
    const grpc = await rawGrpcCall(url, "/llm.v1.LLMService/Chat", Buffer.from([0x0a, 0x7f, 0x01]));
    expect(grpc.status).toBe(String(Code.InvalidArgument));

    const embedLines = await eventually("three Embed refusals", () => {
      const found = requestLines("llm.v1.LLMService/Embed", "INVALID_ARGUMENT");
      return found.length === 3 ? found : undefined;
    });
    for (const line of embedLines) expect(line).toMatchObject({ errorKind: "invalid_request", stream: false });
    await eventually("three StreamChat refusals", () =>
      requestLines("llm.v1.LLMService/StreamChat", "INVALID_ARGUMENT").length === 3 ? true : undefined,
    );
    await eventually(
      "the undecodable Connect body",
      () => requestLines("llm.v1.LLMService/Chat", "INVALID_ARGUMENT")[1],
    );
    await eventually("the undecodable gRPC body", () => requestLines("llm.v1.LLMService/Chat", "INVALID_ARGUMENT")[2]);
    const scrape = await Scrape.of(t.prometheusUrl());
    expect(
      scrape.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/Embed",
        rpc_status_code: "INVALID_ARGUMENT",
      }),
    ).toBe(3);
  });

  it("logs admin calls, answered or refused, once each", async () => {
    await createKey(t.h, { tenant: "team-a", name: "audited" });
    const line = await eventually("the CreateKey line", () =>
      t.lines.find((l) => l["msg"] === "request" && String(l["rpc"]).endsWith("/CreateKey") && l["status"] === "OK"),
    );
    expect(line).toMatchObject({ stream: false });
  });
});
