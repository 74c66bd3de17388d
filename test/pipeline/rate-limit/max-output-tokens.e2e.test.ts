import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../../gen/llm/v1/llm_service_pb.js";
import { failure } from "../../support/call-failure.js";
import { startHarness, type Harness } from "../../support/gateway-harness.js";

/**
 * A target's `maxOutputTokens` (its model's output limit per request) caps what a caller's `max_tokens` reserves
 * of the target's tokens-per-minute window: the model cannot return more, so one request asking for more must
 * not hold the whole window while it runs; and a `max_tokens` above what every target of the route can return
 * is refused before anything is counted.
 */
describe("a target's maxOutputTokens caps the output a request reserves", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      providerDefaults: { rateLimit: { tokensPerMinute: 10_000 } },
      extraModels: [
        {
          name: "capped",
          targets: [
            { provider: "openai", model: "gpt-4o", maxOutputTokens: 100 },
            { provider: "vllm", model: "gpt-4o", maxOutputTokens: 2_000 },
          ],
        },
        { name: "uncapped", targets: [{ provider: "vllm", model: "gpt-4o" }] },
      ],
    });
  });
  afterAll(() => h.close());

  /** Starts a chat the emulator never answers, and reads the provider's token headroom while it is in flight. */
  async function headroomDuring(model: string, provider: string, maxTokens: number): Promise<number> {
    h.emulator.setFault({ hang: true });
    const call = new AbortController();
    const running = h.grpc
      .chat({ model, messages: [{ role: Role.USER, content: "hi" }], options: { maxTokens } }, { signal: call.signal })
      .catch(() => undefined);
    try {
      for (let i = 0; i < 100 && h.emulator.records.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      const { providers } = await h.grpc.listProviders({});
      return Number(providers.find((p) => p.name === provider)?.rateLimit?.tokensRemaining ?? -1);
    } finally {
      call.abort();
      await running;
      h.emulator.setFault(undefined);
      h.emulator.reset();
    }
  }

  it("reserves the prompt and at most maxOutputTokens, not max_tokens", async () => {
    // 1,000 asked: within what the route can return (2,000), above what this target can (100).
    const remaining = await headroomDuring("capped", "openai", 1_000);
    expect(remaining).toBeGreaterThan(10_000 - 100 - 50);
    expect(remaining).toBeLessThanOrEqual(10_000 - 100);
  });

  it("without maxOutputTokens, the same request reserves the whole window", async () => {
    expect(await headroomDuring("uncapped", "vllm", 1_000_000)).toBe(0);
  });

  it("refuses, with INVALID_ARGUMENT and no provider call, max_tokens above what every target can return", async () => {
    const error = await failure(() =>
      h.grpc.chat({ model: "capped", messages: [{ role: Role.USER, content: "hi" }], options: { maxTokens: 5_000 } }),
    );
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toBe(
      "options.max_tokens: 5000 is above the 2000 output tokens model capped's targets can return (their maxOutputTokens)",
    );
    expect(h.emulator.records).toHaveLength(0);
  });
});
