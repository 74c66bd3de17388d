import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../../src/emulator/emulator.js";
import { UpstreamHold } from "../../../src/pipeline/rate-limit/upstream-hold.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { rateLimitContext, rateLimitedTarget } from "./rate-limit-emulator.js";

const chat = (content: string, maxTokens = 20): ChatRequest => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content }],
  maxTokens,
});
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The emulator enforces lower limits than the gateway is configured with, over its real 60-second window, and
 * reports them in its headers as the vendors do. The gateway must hold requests instead of getting 429s.
 */
describe.each(["openai", "anthropic"] as const)(
  "%s: the provider's reported limits hold requests before a 429",
  (vendor) => {
    let emulator: Emulator;
    beforeAll(async () => {
      emulator = await startEmulator({ limits: { requestsPerMinute: 3, tokensPerMinute: 200 } });
    });
    afterAll(async () => {
      await emulator.close();
    });
    beforeEach(() => {
      emulator.reset();
      emulator.setFault(undefined);
    });

    const target = () =>
      rateLimitedTarget(emulator, { vendor, limits: { requestsPerMinute: 100, tokensPerMinute: 100_000 } });

    it("queues the request after the provider's last one instead of sending it, and fails fast when it cannot wait", async () => {
      const { provider, limiter } = target();
      for (const word of ["one", "two", "three"]) await provider.chat(chat(word), new AbortController().signal);
      expect(emulator.records.map((r) => r.status)).toEqual([200, 200, 200]);

      const hurried = await providerErrorOf(
        provider.chat(chat("four"), new AbortController().signal, rateLimitContext(2000)),
      );
      expect(hurried.kind).toBe("queue_full");
      expect(hurried.retryAfterMs).toBeGreaterThan(30_000);

      const controller = new AbortController();
      const patient = providerErrorOf(provider.streamChat(chat("five"), controller.signal, rateLimitContext()));
      await pause(50);
      expect(limiter.queued).toBe(1);
      controller.abort();
      expect((await patient).kind).toBe("cancelled");
      expect(emulator.records.map((r) => r.status)).toEqual([200, 200, 200]);
    });

    it("holds a request whose tokens the provider's remaining tokens cannot cover, and lets a smaller one through", async () => {
      const { provider } = target();
      const first = await provider.chat(chat("one two three", 150), new AbortController().signal);
      expect(first.rateLimit?.tokens?.remaining).toBeLessThan(200);
      const big = await providerErrorOf(
        provider.chat(chat("more words", 190), new AbortController().signal, rateLimitContext(1000)),
      );
      expect(big.kind).toBe("queue_full");
      await expect(provider.chat(chat("small", 5), new AbortController().signal)).resolves.toMatchObject({
        text: "Echo: small",
      });
      expect(emulator.records.every((r) => r.status === 200)).toBe(true);
    });

    it("holds the target for a 429's retry delay after the provider refused a request", async () => {
      const { provider } = target();
      emulator.setFault({ status: 429, retryAfterSeconds: 30 });
      expect((await providerErrorOf(provider.chat(chat("one"), new AbortController().signal))).kind).toBe(
        "rate_limited",
      );
      emulator.setFault(undefined);
      const held = await providerErrorOf(
        provider.chat(chat("two"), new AbortController().signal, rateLimitContext(1000)),
      );
      expect(held.kind).toBe("queue_full");
      expect(held.retryAfterMs).toBeGreaterThan(20_000);
      expect(emulator.records).toHaveLength(1);
    });
  },
);

describe("a 429's retry-after holds a target at most maxHoldMs", () => {
  it("holds for the retry-after when it is short, and for maxHoldMs when it is longer", () => {
    const hold = new UpstreamHold(30_000);
    const demand = { promptTokens: 1, outputTokens: 1 };
    hold.block(5_000, 1_000_000);
    expect(hold.waitMs(demand, 1_000_000)).toBe(5_000);
    hold.block(24 * 60 * 60 * 1000, 1_010_000);
    expect(hold.waitMs(demand, 1_010_000)).toBe(30_000);
    expect(hold.waitMs(demand, 1_040_000)).toBe(0);
  });
});
