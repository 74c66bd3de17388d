import { describe, expect, it } from "vitest";
import { UpstreamHold } from "../../src/pipeline/rate-limit/upstream-hold.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import { createOpenAIProvider } from "../../src/providers/openai/create-openai-provider.js";
import type { UpstreamRateLimit } from "../../src/providers/upstream-rate-limit.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { anthropicTestConfig } from "./anthropic/anthropic-test-config.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { chatRequest, chatCompletionBody } from "./openai/scripted-openai-provider.js";

// Kill tests for src/providers/upstream-rate-limit.ts (mutation testing, see docs/testing.md): Anthropic's
// reset times are RFC 3339 timestamps, and one that is not a date must be left out, not read as a time;
// OpenAI's counts are plain whole numbers and its resets Go durations or seconds, up to one day.

function anthropicAnswer(): string {
  return JSON.stringify({
    id: "msg_r1",
    type: "message",
    role: "assistant",
    model: "claude-test-1",
    content: [{ type: "text", text: "Hello" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 3, output_tokens: 1 },
  });
}

describe("upstreamRateLimit: an Anthropic reset that is not a date", () => {
  it("reports the limit and what is left of it with no reset time, so the gateway holds for its default", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: {
        ...jsonHeaders,
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "0",
        "anthropic-ratelimit-requests-reset": "in a minute",
      },
      body: anthropicAnswer(),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const request = { model: "claude-test", messages: [{ role: "user" as const, content: "Hi" }] };
      const result = await provider.chat(request, new AbortController().signal);
      expect(result.text).toBe("Hello");
      expect(result.rateLimit?.requests).toStrictEqual({ limit: 50, remaining: 0 });
      // The gateway's hold on this provider waits its default second for a limit spent with no known reset.
      const hold = new UpstreamHold(60_000);
      hold.observe(result.rateLimit);
      const observedAt = result.rateLimit?.observedAt ?? Number.NaN;
      expect(hold.waitMs({ promptTokens: 3, outputTokens: 10 }, observedAt)).toBe(1000);
    } finally {
      await server.close();
    }
  });
});

/** The rate-limit state an OpenAI chat answer with `headers` reports through the adapter. */
async function openAIRateLimitWith(headers: Record<string, string>): Promise<UpstreamRateLimit | undefined> {
  const server = await startScriptedServer({
    status: 200,
    headers: { ...jsonHeaders, ...headers },
    body: chatCompletionBody({ id: "chatcmpl-r1" }),
  });
  try {
    const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
    const result = await provider.chat(chatRequest, new AbortController().signal);
    expect(result.text).toBe("Hello");
    return result.rateLimit;
  } finally {
    await server.close();
  }
}

describe("upstreamRateLimit: OpenAI counts that are not plain whole numbers", () => {
  it("leaves out a negative remaining count and a hexadecimal limit rather than reading them as numbers", async () => {
    const rateLimit = await openAIRateLimitWith({
      "x-ratelimit-remaining-requests": "-5",
      "x-ratelimit-limit-tokens": "0x1F",
      "x-ratelimit-remaining-tokens": "9000",
    });
    expect(rateLimit?.requests).toBeUndefined();
    expect(rateLimit?.tokens).toStrictEqual({ remaining: 9000 });
  });
});

describe("upstreamRateLimit: OpenAI reset durations", () => {
  it("reads a bare number of seconds with a fraction, and a reset of exactly one day", async () => {
    const rateLimit = await openAIRateLimitWith({
      "x-ratelimit-remaining-requests": "10",
      "x-ratelimit-reset-requests": "1.25",
      "x-ratelimit-remaining-tokens": "0",
      "x-ratelimit-reset-tokens": "24h0m0s",
    });
    const observedAt = rateLimit?.observedAt ?? Number.NaN;
    expect(rateLimit?.requests).toStrictEqual({ remaining: 10, resetAt: observedAt + 1250 });
    expect(rateLimit?.tokens).toStrictEqual({ remaining: 0, resetAt: observedAt + 86_400_000 });
  });

  it("leaves out a reset that is a negative number, not a duration", async () => {
    const rateLimit = await openAIRateLimitWith({
      "x-ratelimit-remaining-requests": "10",
      "x-ratelimit-reset-requests": "-5",
    });
    expect(rateLimit?.requests).toStrictEqual({ remaining: 10 });
  });
});
