import { describe, expect, it } from "vitest";
import { Secret } from "../../src/config/secret.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest } from "../../src/providers/provider.js";
import { createOpenAICompatibleProvider } from "../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { providerErrorOf } from "../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { anthropicTestConfig } from "./anthropic/anthropic-test-config.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { chatRequest } from "./openai/scripted-openai-provider.js";

// Kill tests for src/providers/upstream-failure.ts (mutation testing, batch 4, see
// docs/mutation/providers-survivors-2026-12-02.md).

describe("upstreamMessage: the API key in an upstream message", () => {
  it("cuts out a key of exactly four characters that a local server echoes", async () => {
    // The config puts no bound on a key's length: a local OpenAI-compatible server may take a short one.
    const server = await startScriptedServer({
      status: 401,
      headers: jsonHeaders,
      body: JSON.stringify({ error: { message: "Incorrect API key provided: k3y9.", type: null, code: null } }),
    });
    try {
      const config = openAITestConfig("openai-compatible", `${server.url}/v1`, { apiKey: new Secret("k3y9") });
      const provider = createOpenAICompatibleProvider(config);
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("auth");
      expect(error.message).toBe("openai-compatible-test: Incorrect API key provided: [REDACTED].");
    } finally {
      await server.close();
    }
  });
});

const anthropicChatRequest: ChatRequest = { model: "claude-test", messages: [{ role: "user", content: "Hi" }] };

describe("the Anthropic adapter: its API key in an upstream message", () => {
  it("cuts out a key that no credential pattern knows (an Anthropic-compatible proxy's)", async () => {
    const key = "proxy.k3y.0xPQ";
    const server = await startScriptedServer({
      status: 401,
      headers: jsonHeaders,
      body: JSON.stringify({ type: "error", error: { type: "authentication_error", message: `bad key ${key} given` } }),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url, { apiKey: new Secret(key) }));
      const error = await providerErrorOf(provider.chat(anthropicChatRequest, new AbortController().signal));
      expect(error.kind).toBe("auth");
      expect(error.message).toBe("anthropic-test: bad key [REDACTED] given");
    } finally {
      await server.close();
    }
  });
});
