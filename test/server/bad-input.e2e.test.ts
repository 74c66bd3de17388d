import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";
import { rawGrpcCall } from "../support/raw-grpc-call.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { maxRequestBytes: 64 * 1024 } });
});
afterAll(() => h.close());

async function code(run: () => Promise<unknown>): Promise<{ code: Code; message: string; kind?: string }> {
  try {
    await run();
  } catch (error) {
    const e = ConnectError.from(error);
    const kind = e.findDetails(ErrorDetailSchema)[0]?.kind;
    return { code: e.code, message: e.rawMessage, ...(kind === undefined ? {} : { kind }) };
  }
  throw new Error("expected the call to fail");
}

const user = { role: Role.USER, content: "hi" };

describe("bad input gets a clear error and the server keeps serving", () => {
  it("rejects an empty message list", async () => {
    expect(await code(() => h.grpc.chat({ model: models.openai, messages: [] }))).toEqual({
      code: Code.InvalidArgument,
      message: "messages: at least one message is required",
      kind: "invalid_request",
    });
  });

  it("rejects an unset or unknown role", async () => {
    const unset = await code(() =>
      h.grpc.chat({ model: models.openai, messages: [{ role: Role.UNSPECIFIED, content: "x" }] }),
    );
    expect(unset.code).toBe(Code.InvalidArgument);
    expect(unset.message).toMatch(/^messages\[0\]\.role: not set \(ROLE_UNSPECIFIED, 0\); use ROLE_SYSTEM/);
    const unknown = await code(() =>
      h.grpc.chat({ model: models.openai, messages: [user, { role: 42 as Role, content: "x" }] }),
    );
    expect(unknown.message).toMatch(/^messages\[1\]\.role: 42 is not a role; use ROLE_SYSTEM/);
  });

  it("rejects negative or zero max_tokens and out-of-range sampling options", async () => {
    expect(
      await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { maxTokens: -5 } })),
    ).toEqual({
      code: Code.InvalidArgument,
      message: "options.max_tokens: must be positive, got -5",
      kind: "invalid_request",
    });
    expect(
      (await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { maxTokens: 0 } }))).code,
    ).toBe(Code.InvalidArgument);
    expect(
      (await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { temperature: 3 } }))).message,
    ).toMatch(/^options.temperature/);
    expect(
      (await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { topP: -0.1 } }))).message,
    ).toMatch(/^options.top_p/);
    expect(
      (
        await code(() =>
          h.grpc.chat({ model: models.openai, messages: [user], options: { stop: ["a", "b", "c", "d", "e"] } }),
        )
      ).code,
    ).toBe(Code.InvalidArgument);
  });

  it("rejects a missing model and empty embedding inputs", async () => {
    expect((await code(() => h.grpc.chat({ model: "", messages: [user] }))).message).toBe("model: is required");
    expect((await code(() => h.grpc.embed({ model: models.embed, inputs: [] }))).message).toBe(
      "inputs: at least one input is required",
    );
  });

  it.each(["grpc", "grpcWeb", "connectJson"] as const)(
    "rejects a request over server.maxRequestBytes as INVALID_ARGUMENT naming the setting (%s)",
    async (client) => {
      const big = { model: models.openai, messages: [{ role: Role.USER, content: "x".repeat(100 * 1024) }] };
      const unary = await code(() => h[client].chat(big));
      const stream = await code(async () => {
        for await (const chunk of h[client].streamChat(big)) void chunk;
      });
      for (const result of [unary, stream]) {
        // It can never succeed: not RESOURCE_EXHAUSTED (HTTP 429, "retry later") but INVALID_ARGUMENT.
        expect(result).toMatchObject({ code: Code.InvalidArgument, kind: "invalid_request" });
        expect(result.message).toMatch(
          /^the request's message is 10\d{4} bytes, larger than server.maxRequestBytes \(65536 bytes\)$/,
        );
      }
    },
  );

  it("refuses a body over the limit whose size is not declared, without buffering it", async () => {
    // Connect unary JSON sent chunked (no Content-Length): the bytes are counted as they arrive.
    const chunks = (async function* () {
      yield new TextEncoder().encode(`{"model":"${models.openai}","messages":[{"role":"ROLE_USER","content":"`);
      for (let i = 0; i < 100; i++) yield new TextEncoder().encode("x".repeat(1024));
      yield new TextEncoder().encode('"}]}');
    })();
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ReadableStream.from(chunks),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toMatch(/larger than server.maxRequestBytes \(65536 bytes\)$/);
  });

  // A request that does not decode is the caller's error: INVALID_ARGUMENT saying what was wrong (connect-es
  // answers INTERNAL before any of the gateway's code runs; src/server/undecodable-request.ts rewrites it).
  it("rejects invalid UTF-8 in a string field with INVALID_ARGUMENT", async () => {
    // ChatRequest{model: <0xff 0xfe>}: field 1, wire type 2, length 2.
    const result = await rawGrpcCall(h.gateway.url, "/llm.v1.LLMService/Chat", Buffer.from([0x0a, 0x02, 0xff, 0xfe]));
    expect(result.status).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(result.message ?? "")).toMatch(
      /^the request's message does not decode: .*(UTF-8|utf-8|encoded data was not valid)/,
    );
  });

  it("rejects a body that is not a protobuf message with INVALID_ARGUMENT, in every binary protocol", async () => {
    const bad = Buffer.from([0x0a, 0x7f, 0x01]);
    const grpc = await rawGrpcCall(h.gateway.url, "/llm.v1.LLMService/StreamChat", bad);
    expect(grpc.status).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(grpc.message ?? "")).toMatch(/^the request's message does not decode: /);
    const enveloped = Buffer.concat([Buffer.from([0, 0, 0, 0, bad.length]), bad]);
    // Connect unary (application/proto): a JSON error body with HTTP 400.
    const unary = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: bad,
    });
    expect(unary.status).toBe(400);
    expect(await unary.json()).toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/^the request's message does not decode: /),
    });
    // Connect streaming (application/connect+proto): the end-stream message.
    const stream = await fetch(`${h.gateway.url}/llm.v1.LLMService/StreamChat`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto" },
      body: enveloped,
    });
    const end = Buffer.from(await stream.arrayBuffer());
    expect(end[0]).toBe(2);
    expect(JSON.parse(end.subarray(5).toString("utf8"))).toMatchObject({
      error: { code: "invalid_argument", message: expect.stringMatching(/^the request's message does not decode: /) },
    });
    // gRPC-Web: the trailer frame.
    const web = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: enveloped,
    });
    const trailer = Buffer.from(await web.arrayBuffer());
    expect(trailer[0]).toBe(0x80);
    expect(trailer.subarray(5).toString("utf8")).toMatch(/grpc-status: ?3\r\n/);
  });

  it("rejects invalid UTF-8 in a Connect JSON body with INVALID_ARGUMENT", async () => {
    const body = Buffer.concat([
      Buffer.from('{"model":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","messages":[{"role":"ROLE_USER","content":"x"}]}'),
    ]);
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    const error = (await response.json()) as { code: string; message: string };
    expect(response.status).toBe(400);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toMatch(/encoded data was not valid/);
  });

  it("still serves after all of the above", async () => {
    const response = await h.grpc.chat({
      model: models.openai,
      messages: [{ role: Role.USER, content: "still there" }],
    });
    expect(response.message?.content).toBe("Echo: still there");
  });
});

describe("unknown JSON fields", () => {
  it("are refused with INVALID_ARGUMENT naming the field, not dropped", async () => {
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: models.openai,
        messages: [{ role: "ROLE_USER", content: "hi" }],
        temperature: 0.2,
      }),
    });
    const body = (await response.json()) as { code?: string; message?: string };
    expect(response.status).toBe(400);
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toContain("temperature");
  });
});
