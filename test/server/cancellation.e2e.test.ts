import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import type { EmulatorRecord } from "../../src/emulator/emulator.js";
import { grpcJsClients } from "../support/grpc-js-client.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterEach(() => {
  h.emulator.setFault(undefined);
  h.emulator.reset();
});
afterAll(() => h.close());

const long = [{ role: Role.USER, content: Array.from({ length: 200 }, (_, i) => `w${i}`).join(" ") }];

/** The emulator's record of the one upstream exchange, once it has ended. */
async function upstreamExchange(): Promise<EmulatorRecord> {
  const deadline = Date.now() + 5000;
  while (h.emulator.records.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const [record] = h.emulator.records;
  if (!record) throw new Error("the emulator saw no request");
  await record.done;
  return record;
}

describe.each([models.openai, models.azure, models.anthropic, models.compatible])(
  "cancellation through %s",
  (model) => {
    it("a client cancelling a stream aborts the upstream request", async () => {
      h.emulator.setFault({ chunkDelayMs: 20 });
      const controller = new AbortController();
      let received = 0;
      const error = await (async () => {
        try {
          for await (const chunk of h.grpc.streamChat({ model, messages: long }, { signal: controller.signal })) {
            if (chunk.delta && ++received === 3) controller.abort();
          }
        } catch (e) {
          return ConnectError.from(e);
        }
        return undefined;
      })();
      expect(error?.code).toBe(Code.Canceled);
      const record = await upstreamExchange();
      expect(record.aborted).toBe(true);
      expect(record.chunksSent).toBeLessThan(50);
    });

    it("a client deadline aborts a hung upstream request and returns DEADLINE_EXCEEDED", async () => {
      h.emulator.setFault({ hang: true });
      const error = await h.grpc.chat({ model, messages: long }, { timeoutMs: 150 }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(error?.code).toBe(Code.DeadlineExceeded);
      expect((await upstreamExchange()).aborted).toBe(true);
    });
  },
);

describe("cancellation from an independent grpc-js client", () => {
  it("call.cancel() mid-stream aborts the upstream request", async () => {
    h.emulator.setFault({ chunkDelayMs: 20 });
    const js = grpcJsClients(`127.0.0.1:${h.gateway.port}`);
    try {
      const call = js.llm.StreamChat({
        model: models.anthropic,
        messages: [{ role: "ROLE_USER", content: long[0]?.content }],
      });
      const status = await new Promise<number>((resolve) => {
        let received = 0;
        call.on("data", () => {
          if (++received === 2) call.cancel();
        });
        call.on("error", (e: { code: number }) => resolve(e.code));
      });
      expect(status).toBe(1);
      expect((await upstreamExchange()).aborted).toBe(true);
    } finally {
      js.close();
    }
  });
});
