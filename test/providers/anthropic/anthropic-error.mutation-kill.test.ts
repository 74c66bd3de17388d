import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { AnthropicProvider } from "../../../src/providers/anthropic/anthropic-provider.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { brokenChunkedJsonAnswer, notHttpAnswer, startRawAnswerServer } from "../raw-answer-server.js";
import { anthropicTestConfig, testApiKey } from "./anthropic-test-config.js";

// Kill tests for src/providers/anthropic/anthropic-error.ts (mutation testing, see docs/testing.md). Every
// fixture is built inside its test so that per-test coverage ties the mapping code to the test.

function chatRequest(): ChatRequest {
  return { model: "claude-test", messages: [{ role: "user", content: "Hi" }] };
}

/** An Anthropic stream that fails at once with an in-stream error event of `type`. */
function errorEventStream(type: string, message: string): string {
  return `event: error\ndata: ${JSON.stringify({ type: "error", error: { type, message } })}\n\n`;
}

describe("anthropicError: in-stream error events (no HTTP status) by their type", () => {
  const cases: Array<{ type: string; kind: string }> = [
    { type: "rate_limit_error", kind: "rate_limited" },
    { type: "timeout_error", kind: "timeout" },
    { type: "invalid_request_error", kind: "invalid_request" },
    { type: "request_too_large", kind: "invalid_request" },
    { type: "permission_error", kind: "auth" },
    { type: "not_found_error", kind: "not_found" },
    { type: "billing_error", kind: "quota_exceeded" },
  ];
  for (const { type, kind } of cases) {
    it(`maps an error event of type ${type} to ${kind}, with the provider's message`, async () => {
      const server = await startScriptedServer({
        status: 200,
        headers: sseHeaders,
        body: errorEventStream(type, `upstream said ${type}`),
      });
      try {
        const provider = createAnthropicProvider(anthropicTestConfig(server.url));
        const error = await providerErrorOf(provider.streamChat(chatRequest(), new AbortController().signal));
        expect(error.kind).toBe(kind);
        expect(error.status).toBeUndefined();
        expect(error.message).toBe(`anthropic-test: upstream said ${type}`);
      } finally {
        await server.close();
      }
    });
  }
});

describe("anthropicError: failures outside the API's error answers", () => {
  it("reports an answer that is not HTTP as an unavailable connection, without a code", async () => {
    const server = await startRawAnswerServer(notHttpAnswer);
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.message).toBe("anthropic-test: connection failed");
    } finally {
      await server.close();
    }
  });

  it("reports an answer it cannot read as internal, with the provider name and the failure", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "claude-test" }),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("internal");
      expect(error.provider).toBe("anthropic-test");
      expect(error.message).toMatch(/^anthropic-test: \S/);
      expect(error.retryable).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("reports a body cut by a protocol error as a lost connection, on a client that uses fetch", async () => {
    // With fetch (not the gateway's pooled fetch) the cut body fails as `TypeError: terminated`, whose cause
    // (a parser error) has no connection code.
    const server = await startRawAnswerServer(brokenChunkedJsonAnswer);
    try {
      const client = new Anthropic({ apiKey: testApiKey, baseURL: server.url, maxRetries: 0, fetch: globalThis.fetch });
      const provider = new AnthropicProvider(client, { name: "anthropic-test", defaultMaxTokens: 64 });
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.retryable).toBe(true);
      expect(error.message).toBe("anthropic-test: connection lost while reading the response");
    } finally {
      await server.close();
    }
  });

  it("caps a long provider message at 1000 characters and marks the cut", async () => {
    const long = "x".repeat(1500);
    const server = await startScriptedServer({
      status: 400,
      headers: jsonHeaders,
      body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: long } }),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("invalid_request");
      expect(error.message).toBe(`anthropic-test: ${"x".repeat(1000)}…`);
    } finally {
      await server.close();
    }
  });
});
