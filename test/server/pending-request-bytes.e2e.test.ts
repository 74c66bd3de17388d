import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { failure } from "../support/call-failure.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";
import { grpcFrame, RawHttp2Client } from "../support/raw-http2.js";

/**
 * server.maxPendingRequestBytes: the bytes of request messages still arriving, over every connection, are
 * bounded; a request whose bytes would pass the budget is refused RESOURCE_EXHAUSTED (retryable), and what a
 * request held is given back when it ends, however it ends.
 */

const budget = 64 * 1024;
/** A prompt of about 40 KiB: one fits the budget, two do not. */
const prompt = "word ".repeat(8_000);

describe("the budget of request bytes still arriving (server.maxPendingRequestBytes)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ server: { maxRequestBytes: budget, maxPendingRequestBytes: budget } });
  });
  afterAll(() => h.close());

  const chat = () => ({
    model: models.openai,
    messages: [{ role: Role.USER, content: prompt }],
    options: { maxTokens: 4 },
  });
  async function drain(messages: AsyncIterable<unknown>): Promise<void> {
    for await (const message of messages) void message;
  }

  it("gives back what each request held: forty 40 KiB calls in a row on every protocol fit a 64 KiB budget", async () => {
    for (let i = 0; i < 10; i++) {
      await h.grpc.chat(chat());
      await h.connectJson.chat(chat());
      await drain(h.grpc.streamChat(chat()));
      await drain(h.grpcWeb.streamChat(chat()));
    }
  });

  it("refuses a request while another's unfinished message holds the budget, and serves it once that one is gone", async () => {
    const holder = await RawHttp2Client.connect(h.gateway.port, { ackSettings: true });
    try {
      await holder.settled;
      // 40 KiB of a declared 60 KiB message, never finished: the gateway holds it until the request ends.
      const stream = holder.request([
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/llm.v1.LLMService/Chat"],
        [":authority", `127.0.0.1:${String(h.gateway.port)}`],
        ["content-type", "application/grpc"],
        ["te", "trailers"],
      ]);
      holder.send(stream, grpcFrame(60 * 1024, Buffer.alloc(40 * 1024, 0x41)));
      await holder.until(() => holder.queuedBytes === 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await failure(() => h.grpc.chat(chat()));
      expect(refused.code).toBe(Code.ResourceExhausted);
      expect(refused.rawMessage).toBe(
        `the gateway is holding its limit of ${String(budget)} bytes of requests still arriving (server.maxPendingRequestBytes); retry shortly`,
      );
      expect(refused.findDetails(ErrorDetailSchema)[0]).toMatchObject({ kind: "queue_full", retryable: true });
    } finally {
      holder.destroy();
    }
    await holder.closed;
    // The holder's bytes are given back when its connection goes: the same call is served.
    const deadline = performance.now() + 2_000;
    for (;;) {
      try {
        await h.grpc.chat(chat());
        break;
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    expect(h.emulator.records.length).toBeGreaterThan(0);
  });
});
