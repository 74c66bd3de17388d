import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import { createOpenAIProvider } from "../../src/providers/openai/create-openai-provider.js";
import { anthropicTestConfig } from "./anthropic/anthropic-test-config.js";
import { providerErrorOf } from "../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { chatRequest } from "./openai/scripted-openai-provider.js";

// Kill tests for src/providers/retry-after.ts (mutation testing, see docs/testing.md): a 429 whose
// `retry-after` is an HTTP date rather than a number of seconds, or empty; an Anthropic 429 that gives only its
// rate-limit reset time; a `retry-after-ms` of 0 or below 0.

async function rateLimitedWith(retryAfter: string): Promise<number | undefined> {
  return rateLimitedWithHeaders({ "retry-after": retryAfter });
}

/** The retry delay an OpenAI adapter takes from a 429 answer with `headers`. */
async function rateLimitedWithHeaders(headers: Record<string, string>): Promise<number | undefined> {
  const server = await startScriptedServer({
    status: 429,
    headers: { ...jsonHeaders, ...headers },
    body: JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }),
  });
  try {
    const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
    const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
    expect(error.kind).toBe("rate_limited");
    return error.retryAfterMs;
  } finally {
    await server.close();
  }
}

describe("retryAfterMs from an HTTP-date retry-after", () => {
  it("waits until the date", async () => {
    const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
    const before = Date.now();
    const waitMs = await rateLimitedWith(at.toUTCString());
    const after = Date.now();
    expect(waitMs).toBeGreaterThanOrEqual(at.getTime() - after);
    expect(waitMs).toBeLessThanOrEqual(at.getTime() - before);
  });

  it("waits not at all for a date already past", async () => {
    expect(await rateLimitedWith(new Date(Date.now() - 60_000).toUTCString())).toBe(0);
  });

  it("gives no wait for a retry-after that is neither seconds nor a date", async () => {
    expect(await rateLimitedWith("soon")).toBeUndefined();
  });
});

describe("retryAfterMs from an empty retry-after", () => {
  it("gives no wait: an empty retry-after asks for none", async () => {
    expect(await rateLimitedWith("")).toBeUndefined();
  });
});

describe("retryAfterMs from Anthropic's rate-limit reset times", () => {
  it("waits until the reset of a 429 without retry-after, not a whole day", async () => {
    const at = Date.now() + 30_000;
    const server = await startScriptedServer({
      status: 429,
      headers: { ...jsonHeaders, "anthropic-ratelimit-requests-reset": new Date(at).toISOString() },
      body: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } }),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const before = Date.now();
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      const after = Date.now();
      expect(error.kind).toBe("rate_limited");
      expect(error.retryAfterMs).toBeGreaterThanOrEqual(at - after);
      expect(error.retryAfterMs).toBeLessThanOrEqual(at - before);
    } finally {
      await server.close();
    }
  });
});

describe("retryAfterMs from retry-after-ms", () => {
  it("takes a retry-after-ms of 0 as it is: no wait, not the retry-after's", async () => {
    expect(await rateLimitedWithHeaders({ "retry-after-ms": "0", "retry-after": "5" })).toBe(0);
  });

  it("ignores a negative retry-after-ms and waits the retry-after's seconds", async () => {
    expect(await rateLimitedWithHeaders({ "retry-after-ms": "-1", "retry-after": "5" })).toBe(5000);
  });
});
