import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../../gen/llm/v1/llm_service_pb.js";
import { failure } from "../../support/call-failure.js";
import { models, startHarness, type Harness } from "../../support/gateway-harness.js";

/**
 * Issue 10: for a unary call, `firstTokenMs` ends when the answer's headers arrive (the provider has accepted
 * the call), not when the whole answer has; and a call that times out after that is not sent again, since the
 * provider bills the abandoned one. Before the headers, a timeout is retried as before.
 */
describe("unary calls: firstTokenMs ends at the answer's headers, and an accepted call is not sent twice", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      providerDefaults: { timeouts: { firstTokenMs: 300, totalMs: 1_500 } },
      pipeline: { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 1 } },
    });
  });
  afterEach(() => {
    h.emulator.setFault(undefined);
    h.emulator.reset();
  });
  afterAll(() => h.close());

  const chat = () => h.grpc.chat({ model: models.openai, messages: [{ role: Role.USER, content: "hi" }] });

  it.each([models.openai, models.azure, models.anthropic, models.compatible])(
    "%s: answers a call whose headers come at once and whose body takes longer than firstTokenMs",
    async (model) => {
      h.emulator.setFault({ bodyDelayMs: 800 });
      const answer = await h.grpc.chat({ model, messages: [{ role: Role.USER, content: "hi" }] });
      expect(answer.message?.content).toBe("Echo: hi");
      expect(h.emulator.records).toHaveLength(1);
    },
  );

  it("does not send again a call that passed totalMs after the provider accepted it", async () => {
    h.emulator.setFault({ bodyDelayMs: 5_000 });
    const error = await failure(chat);
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(error.rawMessage).toMatch(
      /timed out after 1500 ms \(totalMs: .*\); the call was abandoned; the provider had accepted it, so it is not retried/,
    );
    expect(h.emulator.records).toHaveLength(1);
  });

  it("still retries a call whose headers did not come within firstTokenMs", async () => {
    h.emulator.setFault({ latencyMs: 800 });
    const error = await failure(chat);
    expect(error.code).toBe(Code.DeadlineExceeded);
    expect(error.rawMessage).toMatch(/timed out after 300 ms \(firstTokenMs: /);
    expect(h.emulator.records.length).toBeGreaterThan(1);
  });
});
