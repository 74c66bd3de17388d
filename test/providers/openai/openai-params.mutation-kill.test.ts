import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "./openai-test-config.js";

// Kill tests for src/providers/openai/openai-params.ts (mutation testing, see docs/testing.md).

describe("openAIParams: messages the adapter cannot express", () => {
  it("refuses a tool message, saying why, and sends nothing", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const request = {
        model: "gpt-test",
        messages: [
          { role: "user" as const, content: "What is 6 times 7?" },
          { role: "tool" as const, content: "42" },
        ],
      };
      const error = await providerErrorOf(provider.chat(request, new AbortController().signal));
      expect(error.kind).toBe("invalid_request");
      expect(error.message).toBe("openai-test: tool messages are not supported yet (they need a tool call id)");
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
