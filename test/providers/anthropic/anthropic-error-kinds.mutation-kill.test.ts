import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { startSilentServer } from "../silent-server.js";
import { anthropicTestConfig } from "./anthropic-test-config.js";

// Kill tests for src/providers/anthropic/anthropic-error.ts after its rewrite onto upstream-failure.ts
// (mutation testing, batch 4, see docs/mutation/providers-survivors-2026-12-02.md). Every fixture is built
// inside its test so that per-test coverage ties the mapping code to the test.

function chatRequest(): ChatRequest {
  return { model: "claude-test", messages: [{ role: "user", content: "Hi" }] };
}

/** Anthropic's error body: `{ type: "error", error: { type, message } }` and whatever else is given. */
function errorBody(type: string, message: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: "error", error: { type, message }, ...extra });
}

describe("anthropicError: error answers by status and type", () => {
  const cases: Array<{ name: string; status: number; type: string; kind: string }> = [
    {
      name: "a 409 of type api_error (a status the shared table leaves open)",
      status: 409,
      type: "api_error",
      kind: "unavailable",
    },
    { name: "a 500 of type overloaded_error", status: 500, type: "overloaded_error", kind: "overloaded" },
    {
      name: "a 429 of type overloaded_error (the status wins)",
      status: 429,
      type: "overloaded_error",
      kind: "rate_limited",
    },
    { name: "a 429 of type rate_limit_error", status: 429, type: "rate_limit_error", kind: "rate_limited" },
  ];
  for (const { name, status, type, kind } of cases) {
    it(`maps ${name} to ${kind}, with the status and the provider's message`, async () => {
      const server = await startScriptedServer({
        status,
        headers: jsonHeaders,
        body: errorBody(type, "upstream said no"),
      });
      try {
        const provider = createAnthropicProvider(anthropicTestConfig(server.url));
        const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
        expect(error.kind).toBe(kind);
        expect(error.status).toBe(status);
        expect(error.message).toBe("anthropic-test: upstream said no");
      } finally {
        await server.close();
      }
    });
  }

  it("takes no request id from a body whose request_id is not a string", async () => {
    const server = await startScriptedServer({
      status: 500,
      headers: jsonHeaders,
      body: errorBody("api_error", "Internal server error", { request_id: 42 }),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.providerRequestId).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it("maps a 500 whose JSON body is null to unavailable, with no request id", async () => {
    const server = await startScriptedServer({ status: 500, headers: jsonHeaders, body: "null" });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.status).toBe(500);
      expect(error.message).toBe("anthropic-test: 500 null");
      expect(error.providerRequestId).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe("anthropicError: in-stream error events (no HTTP status)", () => {
  it("maps an error event of type authentication_error to auth, with the provider's message", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: `event: error\ndata: ${errorBody("authentication_error", "invalid x-api-key")}\n\n`,
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.streamChat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("auth");
      expect(error.message).toBe("anthropic-test: invalid x-api-key");
    } finally {
      await server.close();
    }
  });

  it("asks for no wait on a rate-limit event: the 200 answer's retry-after was not about it", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: { ...sseHeaders, "retry-after": "7" },
      body: `event: error\ndata: ${errorBody("rate_limit_error", "Rate limited")}\n\n`,
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.streamChat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("rate_limited");
      expect(error.status).toBeUndefined();
      expect(error.retryAfterMs).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe("anthropicError: calls that end without an answer", () => {
  it("reports a call the provider does not answer within timeoutMs as timed out, saying so", async () => {
    const server = await startSilentServer();
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url, { timeoutMs: 200 }));
      const error = await providerErrorOf(provider.chat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("timeout");
      expect(error.message).toBe("anthropic-test: request timed out");
    } finally {
      await server.close();
    }
  });

  it("reports a call its caller cancelled as cancelled, saying so", async () => {
    const server = await startSilentServer();
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const caller = new AbortController();
      caller.abort();
      const error = await providerErrorOf(provider.chat(chatRequest(), caller.signal));
      expect(error.kind).toBe("cancelled");
      expect(error.message).toBe("anthropic-test: request cancelled");
    } finally {
      await server.close();
    }
  });
});
