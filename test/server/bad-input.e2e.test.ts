import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ server: { maxRequestBytes: 64 * 1024 } });
});
afterAll(() => h.close());

async function code(run: () => Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await run();
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

const user = { role: Role.USER, content: "hi" };

/** A gRPC call made by hand over HTTP/2, so that the request bytes can be anything. */
function rawGrpcCall(url: string, path: string, payload: Buffer): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc+proto", te: "trailers" });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h2) => (headers = h2));
    stream.on("trailers", (trailers) => (headers = { ...headers, ...trailers }));
    stream.on("data", () => undefined);
    stream.on("end", () => {
      session.close();
      const status = headers["grpc-status"];
      const message = headers["grpc-message"];
      resolve({ status: Array.isArray(status) ? status[0] : status, message: Array.isArray(message) ? message[0] : message });
    });
    stream.end(frame);
  });
}

describe("bad input gets a clear error and the server keeps serving", () => {
  it("rejects an empty message list", async () => {
    expect(await code(() => h.grpc.chat({ model: models.openai, messages: [] }))).toEqual({
      code: Code.InvalidArgument,
      message: "messages: at least one message is required",
    });
  });

  it("rejects an unset or unknown role", async () => {
    const unset = await code(() => h.grpc.chat({ model: models.openai, messages: [{ role: Role.UNSPECIFIED, content: "x" }] }));
    expect(unset.code).toBe(Code.InvalidArgument);
    expect(unset.message).toMatch(/^messages\[0\]\.role: unknown role/);
    const unknown = await code(() => h.grpc.chat({ model: models.openai, messages: [user, { role: 42 as Role, content: "x" }] }));
    expect(unknown.message).toMatch(/^messages\[1\]\.role: unknown role 42/);
  });

  it("rejects negative or zero max_tokens and out-of-range sampling options", async () => {
    expect(await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { maxTokens: -5 } }))).toEqual({
      code: Code.InvalidArgument,
      message: "options.max_tokens: must be positive, got -5",
    });
    expect((await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { maxTokens: 0 } }))).code).toBe(Code.InvalidArgument);
    expect((await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { temperature: 3 } }))).message).toMatch(/^options.temperature/);
    expect((await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { topP: -0.1 } }))).message).toMatch(/^options.top_p/);
    expect((await code(() => h.grpc.chat({ model: models.openai, messages: [user], options: { stop: ["a", "b", "c", "d", "e"] } }))).code).toBe(Code.InvalidArgument);
  });

  it("rejects a missing model and empty embedding inputs", async () => {
    expect((await code(() => h.grpc.chat({ model: "", messages: [user] }))).message).toBe("model: is required");
    expect((await code(() => h.grpc.embed({ model: models.embed, inputs: [] }))).message).toBe("inputs: at least one input is required");
  });

  it("rejects a request over the configured size limit before reading it whole", async () => {
    const result = await code(() => h.grpc.chat({ model: models.openai, messages: [{ role: Role.USER, content: "x".repeat(100 * 1024) }] }));
    expect(result.code).toBe(Code.ResourceExhausted);
    expect(result.message).toMatch(/^message size \d+ is larger than configured readMaxBytes 65536$/);
  });

  // A request that does not decode is INTERNAL, as grpc-go and grpc-java answer an unparsable request message
  // (and as connect-es does); the message says what was wrong with it.
  it("rejects invalid UTF-8 in a string field", async () => {
    // ChatRequest{model: <0xff 0xfe>}: field 1, wire type 2, length 2.
    const result = await rawGrpcCall(h.gateway.url, "/llm.v1.LLMService/Chat", Buffer.from([0x0a, 0x02, 0xff, 0xfe]));
    expect(result.status).toBe(String(Code.Internal));
    expect(decodeURIComponent(result.message ?? "")).toMatch(/^parse binary: .*(UTF-8|utf-8|encoded data was not valid)/);
  });

  it("rejects a body that is not a protobuf message", async () => {
    const result = await rawGrpcCall(h.gateway.url, "/llm.v1.LLMService/Chat", Buffer.from([0x0a, 0x7f, 0x01]));
    expect(result.status).toBe(String(Code.Internal));
    expect(decodeURIComponent(result.message ?? "")).toMatch(/^parse binary: /);
  });

  it("rejects invalid UTF-8 in a Connect JSON body with INVALID_ARGUMENT", async () => {
    const body = Buffer.concat([Buffer.from('{"model":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","messages":[{"role":"ROLE_USER","content":"x"}]}')]);
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const error = (await response.json()) as { code: string; message: string };
    expect(response.status).toBe(400);
    expect(error.code).toBe("invalid_argument");
    expect(error.message).toMatch(/encoded data was not valid/);
  });

  it("still serves after all of the above", async () => {
    const response = await h.grpc.chat({ model: models.openai, messages: [{ role: Role.USER, content: "still there" }] });
    expect(response.message?.content).toBe("Echo: still there");
  });
});
