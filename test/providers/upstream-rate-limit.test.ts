import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import { createAzureProvider } from "../../src/providers/azure/create-azure-provider.js";
import { createOpenAIProvider } from "../../src/providers/openai/create-openai-provider.js";
import type { Provider, StreamPart } from "../../src/providers/provider.js";
import { upstreamRateLimit } from "../../src/providers/upstream-rate-limit.js";
import { collectStream } from "../support/collect-stream.js";
import { anthropicEmulatorConfig } from "./anthropic/anthropic-emulator-config.js";
import { openAITestConfig } from "./openai/openai-test-config.js";

const now = Date.parse("2024-03-26T19:59:59Z");

describe("upstreamRateLimit (headers)", () => {
  it("reads OpenAI's counts and Go-style reset durations as absolute times", () => {
    const state = upstreamRateLimit(
      new Headers({
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "499",
        "x-ratelimit-reset-requests": "120ms",
        "x-ratelimit-limit-tokens": "200000",
        "x-ratelimit-remaining-tokens": "199992",
        "x-ratelimit-reset-tokens": "1m30s",
      }),
      now,
    );
    expect(state).toEqual({
      observedAt: now,
      requests: { limit: 500, remaining: 499, resetAt: now + 120 },
      tokens: { limit: 200_000, remaining: 199_992, resetAt: now + 90_000 },
    });
  });

  it.each([
    ["6ms", 6],
    ["0s", 0],
    ["1s", 1000],
    ["1.5s", 1500],
    ["0.25s", 250],
    ["1m30s", 90_000],
    ["6m0s", 360_000],
    ["2h0m0s", 7_200_000],
    ["1h2m3.5s", 3_723_500],
    ["17", 17_000],
  ])("reads the duration %s as %i ms", (value, ms) => {
    const state = upstreamRateLimit(
      new Headers({ "x-ratelimit-remaining-requests": "1", "x-ratelimit-reset-requests": value }),
      now,
    );
    expect(state?.requests?.resetAt).toBe(now + ms);
  });

  it.each(["soon", "1x", "1m30", "-5s", "", "48h"])("leaves an unreadable or absurd reset %j out", (value) => {
    const state = upstreamRateLimit(
      new Headers({ "x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": value }),
      now,
    );
    expect(state?.requests).toEqual({ remaining: 3 });
  });

  it("reads Anthropic's counts with RFC 3339 resets, input and output token limits included", () => {
    const state = upstreamRateLimit(
      new Headers({
        "anthropic-ratelimit-requests-limit": "5",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "2024-03-26T20:00:00Z",
        "anthropic-ratelimit-tokens-limit": "25000",
        "anthropic-ratelimit-tokens-remaining": "16000",
        "anthropic-ratelimit-tokens-reset": "2024-03-26T20:00:00Z",
        "anthropic-ratelimit-input-tokens-remaining": "9000",
        "anthropic-ratelimit-input-tokens-reset": "2024-03-26T20:00:30.500Z",
        "anthropic-ratelimit-output-tokens-limit": "8000",
        "anthropic-ratelimit-output-tokens-remaining": "7000",
      }),
      now,
    );
    const reset = Date.parse("2024-03-26T20:00:00Z");
    expect(state).toEqual({
      observedAt: now,
      requests: { limit: 5, remaining: 0, resetAt: reset },
      tokens: { limit: 25_000, remaining: 16_000, resetAt: reset },
      inputTokens: { remaining: 9000, resetAt: reset + 30_500 },
      outputTokens: { limit: 8000, remaining: 7000 },
    });
  });

  it("is undefined without rate-limit headers, and ignores counts that are not integers", () => {
    expect(upstreamRateLimit(new Headers({ "content-type": "application/json" }), now)).toBeUndefined();
    expect(upstreamRateLimit(undefined, now)).toBeUndefined();
    expect(
      upstreamRateLimit(
        new Headers({ "x-ratelimit-remaining-tokens": "12.5", "x-ratelimit-remaining-requests": "many" }),
        now,
      ),
    ).toBeUndefined();
  });
});

describe("adapters report the emulator's true rate-limit state", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ limits: { requestsPerMinute: 10, tokensPerMinute: 1000 } });
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => emulator.reset());

  const members: Array<[string, () => Provider]> = [
    ["openai", () => createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`))],
    ["azure", () => createAzureProvider(openAITestConfig("azure", emulator.url, { apiVersion: "2024-10-21" }))],
    ["anthropic", () => createAnthropicProvider(anthropicEmulatorConfig(emulator.url))],
  ];
  const request = {
    model: "gpt-4o-mini",
    messages: [{ role: "user" as const, content: "one two three" }],
    maxTokens: 50,
  };
  /** Emulator tokens: prompt (3 + 3) + 3, answer "Echo: one two three" 4. */
  const tokensPerCall = 13;

  it.each(members)("%s: unary results carry the remaining counts after each call", async (_name, make) => {
    const provider = make();
    const before = Date.now();
    const first = await provider.chat(request, new AbortController().signal);
    const second = await provider.chat(request, new AbortController().signal);
    expect(first.rateLimit?.requests).toMatchObject({ limit: 10, remaining: 9 });
    expect(first.rateLimit?.tokens).toMatchObject({ limit: 1000, remaining: 1000 - tokensPerCall });
    expect(second.rateLimit?.requests?.remaining).toBe(8);
    expect(second.rateLimit?.tokens?.remaining).toBe(1000 - 2 * tokensPerCall);
    expect(second.rateLimit?.requests?.resetAt).toBeGreaterThan(before);
  });

  it.each(members)("%s: a stream's finish part carries the state read from its headers", async (_name, make) => {
    const parts = await collectStream(make().streamChat(request, new AbortController().signal));
    const finish = parts.at(-1) as Extract<StreamPart, { type: "finish" }>;
    expect(finish.type).toBe("finish");
    expect(finish.rateLimit?.requests?.remaining).toBe(9);
    expect(finish.rateLimit?.tokens?.remaining).toBe(1000 - tokensPerCall);
  });

  it("embeddings carry it too", async () => {
    const provider = createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`));
    const result = await provider.embed(
      { model: "text-embedding-3-small", inputs: ["a b", "c"] },
      new AbortController().signal,
    );
    expect(result.rateLimit?.requests?.remaining).toBe(9);
    expect(result.rateLimit?.tokens?.remaining).toBe(1000 - 3);
  });
});
