import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * A target's `maxOutputTokens` (its model's output limit per request) caps what a caller's `max_tokens` reserves
 * of the target's tokens-per-minute window: the model cannot return more, so one request asking for a million
 * tokens must not hold the whole window while it runs.
 */
describe("a target's maxOutputTokens caps the output a request reserves", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      providerDefaults: { rateLimit: { tokensPerMinute: 10_000 } },
      extraModels: [
        { name: "capped", targets: [{ provider: "openai", model: "gpt-4o", maxOutputTokens: 100 }] },
        { name: "uncapped", targets: [{ provider: "vllm", model: "gpt-4o" }] },
      ],
    });
  });
  afterAll(() => h.close());

  /** Starts a chat the emulator never answers, and reads the provider's token headroom while it is in flight. */
  async function headroomDuring(model: string, provider: string): Promise<number> {
    h.emulator.setFault({ hang: true });
    const call = new AbortController();
    const running = h.grpc
      .chat(
        { model, messages: [{ role: Role.USER, content: "hi" }], options: { maxTokens: 1_000_000 } },
        { signal: call.signal },
      )
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
    const remaining = await headroomDuring("capped", "openai");
    expect(remaining).toBeGreaterThan(10_000 - 100 - 50);
    expect(remaining).toBeLessThanOrEqual(10_000 - 100);
  });

  it("without maxOutputTokens, the same request reserves the whole window", async () => {
    expect(await headroomDuring("uncapped", "vllm")).toBe(0);
  });
});
