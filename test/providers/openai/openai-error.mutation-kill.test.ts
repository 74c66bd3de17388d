import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";
import { notHttpAnswer, startRawAnswerServer } from "../raw-answer-server.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest } from "./scripted-openai-provider.js";

// Kill tests for src/providers/openai/openai-error.ts (mutation testing, see docs/testing.md). Every fixture
// is built inside its test so that per-test coverage ties the mapping code to the test.

describe("openAIErrorToProviderError: in-stream error events (no HTTP status) by their type", () => {
  const cases: Array<{ type: string; kind: string }> = [
    { type: "overloaded_error", kind: "overloaded" },
    { type: "authentication_error", kind: "auth" },
    { type: "invalid_request_error", kind: "invalid_request" },
    { type: "timeout", kind: "timeout" },
  ];
  for (const { type, kind } of cases) {
    it(`maps an error event of type ${type} to ${kind}, with the provider's message`, async () => {
      const server = await startScriptedServer({
        status: 200,
        headers: sseHeaders,
        body: openAISse([{ error: { message: `upstream said ${type}`, type, code: null } }]),
      });
      try {
        const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
        const error = await providerErrorOf(provider.streamChat(chatRequest, new AbortController().signal));
        expect(error.kind).toBe(kind);
        expect(error.status).toBeUndefined();
        expect(error.message).toBe(`openai-test: upstream said ${type}`);
      } finally {
        await server.close();
      }
    });
  }
});

describe("openAIErrorToProviderError: answers and failures outside the usual error statuses", () => {
  it("reports a 3xx answer (the adapter follows no redirects) as internal, with its status", async () => {
    const server = await startScriptedServer({
      status: 302,
      headers: { ...jsonHeaders, location: "http://127.0.0.1:1/elsewhere" },
      body: JSON.stringify({ error: { message: "moved", type: null, code: null } }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("internal");
      expect(error.status).toBe(302);
      expect(error.retryable).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("reports an answer that is not HTTP as a failed connection, naming no code", async () => {
    const server = await startRawAnswerServer(notHttpAnswer);
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.message).toBe("openai-test: connection failed");
    } finally {
      await server.close();
    }
  });

  it("caps a long provider message at 1000 characters of the provider's text and marks the cut", async () => {
    const server = await startScriptedServer({
      status: 400,
      headers: jsonHeaders,
      body: JSON.stringify({ error: { message: "y".repeat(1500), type: "invalid_request_error", code: null } }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("invalid_request");
      expect(error.message).toBe(`openai-test: ${"y".repeat(1000)}…`);
    } finally {
      await server.close();
    }
  });
});
