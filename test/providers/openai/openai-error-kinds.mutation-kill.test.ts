import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";
import { startSilentServer } from "../silent-server.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest } from "./scripted-openai-provider.js";

// Kill tests for src/providers/openai/openai-error.ts after its rewrite onto upstream-failure.ts (mutation
// testing, batch 4, see docs/mutation/providers-survivors-2026-12-02.md). Every fixture is built inside its test
// so that per-test coverage ties the mapping code to the test.

describe("openAIErrorToProviderError: in-stream error events by their code and type", () => {
  const cases: Array<{ code: string | null; type: string | null; kind: string }> = [
    { code: "rate_limit_exceeded", type: null, kind: "rate_limited" },
    { code: null, type: "rate_limit_error", kind: "rate_limited" },
    { code: null, type: "tokens", kind: "rate_limited" },
    { code: null, type: "requests", kind: "rate_limited" },
    { code: null, type: "overloaded", kind: "overloaded" },
    { code: "invalid_api_key", type: null, kind: "auth" },
    { code: null, type: "permission_error", kind: "auth" },
    // OpenAI's own shape for a bad key: either name decides, the other need not match.
    { code: "invalid_api_key", type: "invalid_request_error", kind: "auth" },
  ];
  for (const { code, type, kind } of cases) {
    it(`maps an error event of code ${String(code)} and type ${String(type)} to ${kind}`, async () => {
      const server = await startScriptedServer({
        status: 200,
        headers: sseHeaders,
        body: openAISse([{ error: { message: "upstream said no", type, code } }]),
      });
      try {
        const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
        const error = await providerErrorOf(provider.streamChat(chatRequest, new AbortController().signal));
        expect(error.kind).toBe(kind);
        expect(error.status).toBeUndefined();
        expect(error.message).toBe("openai-test: upstream said no");
      } finally {
        await server.close();
      }
    });
  }
});

describe("openAIErrorToProviderError: error answers by status, code and type", () => {
  const cases: Array<{ name: string; status: number; error: unknown; kind: string; message: string }> = [
    {
      name: "a 429 whose code alone says the quota is spent",
      status: 429,
      error: { message: "You exceeded your current quota.", type: "requests", code: "insufficient_quota" },
      kind: "quota_exceeded",
      message: "You exceeded your current quota.",
    },
    {
      name: "a 429 whose type alone says the quota is spent",
      status: 429,
      error: { message: "You exceeded your current quota.", type: "insufficient_quota", code: null },
      kind: "quota_exceeded",
      message: "You exceeded your current quota.",
    },
    {
      name: "a 400 whose code alone says the prompt is too long",
      status: 400,
      error: {
        message: "Too many tokens in the messages.",
        type: "invalid_request_error",
        code: "context_length_exceeded",
      },
      kind: "context_length",
      message: "Too many tokens in the messages.",
    },
    {
      name: "a 405 (a 4xx the shared table leaves open)",
      status: 405,
      error: { message: "Method not allowed.", type: null, code: null },
      kind: "invalid_request",
      message: "Method not allowed.",
    },
    {
      name: "a 500",
      status: 500,
      error: { message: "The server had an error.", type: "server_error", code: null },
      kind: "unavailable",
      message: "The server had an error.",
    },
    {
      name: "a 400 whose error member is null",
      status: 400,
      error: null,
      kind: "invalid_request",
      message: "400 status code (no body)",
    },
    {
      name: "a 400 whose error message is not a string",
      status: 400,
      error: { message: 42, type: "invalid_request_error", code: null },
      kind: "invalid_request",
      message: "400 42",
    },
  ];
  // Without a string message in the body, the message is the SDK's status line.
  for (const { name, status, error: body, kind, message } of cases) {
    it(`maps ${name} to ${kind}, with the status and the provider's message`, async () => {
      const server = await startScriptedServer({ status, headers: jsonHeaders, body: JSON.stringify({ error: body }) });
      try {
        const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
        const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
        expect(error.kind).toBe(kind);
        expect(error.status).toBe(status);
        expect(error.message).toBe(`openai-test: ${message}`);
      } finally {
        await server.close();
      }
    });
  }
});

describe("openAIErrorToProviderError: calls that end without an answer", () => {
  it("reports a call the provider does not answer within timeoutMs as timed out, saying so", async () => {
    const server = await startSilentServer();
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`, { timeoutMs: 200 }));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("timeout");
      expect(error.message).toBe("openai-test: the request timed out");
    } finally {
      await server.close();
    }
  });

  it("reports a call its caller cancelled as cancelled, saying so", async () => {
    const server = await startSilentServer();
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const caller = new AbortController();
      caller.abort();
      const error = await providerErrorOf(provider.chat(chatRequest, caller.signal));
      expect(error.kind).toBe("cancelled");
      expect(error.message).toBe("openai-test: the request was cancelled");
    } finally {
      await server.close();
    }
  });
});
