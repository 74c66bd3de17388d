import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { anthropicTestConfig } from "./anthropic-test-config.js";

// Kill tests for src/providers/anthropic/anthropic-provider.ts (mutation testing, see docs/testing.md).

describe("AnthropicProvider: embeddings", () => {
  it("refuses embeddings as unsupported, naming the provider and the model, and sends nothing", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const call = provider.embed({ model: "claude-embed", inputs: ["a"] }, new AbortController().signal);
      const error = await providerErrorOf(call);
      expect(error.kind).toBe("unsupported");
      expect(error.message).toBe("anthropic-test: Anthropic offers no embeddings API (model claude-embed)");
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
