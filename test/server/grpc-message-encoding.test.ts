import type { ServiceError } from "@grpc/grpc-js";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { specEncodedGrpcMessage } from "../../src/server/grpc-message-encoding.js";
import { chat, grpcJsClients } from "../support/grpc-js-client.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

describe("specEncodedGrpcMessage", () => {
  it("percent-encodes only what the gRPC spec asks: bytes outside printable ASCII, and %", () => {
    expect(specEncodedGrpcMessage(encodeURIComponent("messages: at least one, a=b/c?"))).toBe(
      "messages: at least one, a=b/c?",
    );
    expect(specEncodedGrpcMessage(encodeURIComponent("50% … done\n"))).toBe("50%25 %E2%80%A6 done%0A");
  });
});

describe("error messages as polyglot gRPC clients read them", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const expected =
    "messages[0].role: not set (ROLE_UNSPECIFIED, 0); use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL";

  it("reads cleanly in grpc-js, which decodes grpc-message with decodeURI", async () => {
    const js = grpcJsClients(new URL(h.gateway.url).host);
    try {
      const error = (await chat(js.llm, { model: models.openai, messages: [{ content: "hi" }] }).then(
        () => undefined,
        (e: unknown) => e,
      )) as ServiceError | undefined;
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.details).toBe(expected);
    } finally {
      js.close();
    }
  });

  it("still reads cleanly in connect-es, which decodes with decodeURIComponent", async () => {
    const client = createClient(LLMService, createGrpcTransport({ baseUrl: h.gateway.url }));
    const error = await client
      .chat({ model: models.openai, messages: [{ role: Role.UNSPECIFIED, content: "hi" }] })
      .then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
    expect(error?.rawMessage).toBe(expected);
  });
});
