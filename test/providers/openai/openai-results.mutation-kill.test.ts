import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "./openai-test-config.js";

// Kill tests for src/providers/openai/openai-results.ts (mutation testing, see docs/testing.md).

describe("openAIResults: unreadable unary answers", () => {
  it("fails a completion answer without choices as internal, saying so", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({ id: "cmpl-1", object: "text_completion", created: 1, model: "gpt-test", choices: [] }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const call = provider.complete({ model: "gpt-test", prompt: "Hi" }, new AbortController().signal);
      const error = await providerErrorOf(call);
      expect(error.kind).toBe("internal");
      expect(error.message).toBe("openai-test: unexpected failure: the completion has no choices");
    } finally {
      await server.close();
    }
  });
});
