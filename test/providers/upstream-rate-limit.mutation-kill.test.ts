import { describe, expect, it } from "vitest";
import { UpstreamHold } from "../../src/pipeline/rate-limit/upstream-hold.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { anthropicTestConfig } from "./anthropic/anthropic-test-config.js";

// Kill tests for src/providers/upstream-rate-limit.ts (mutation testing, see docs/testing.md): Anthropic's
// reset times are RFC 3339 timestamps, and one that is not a date must be left out, not read as a time.

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
