import { describe, expect, it } from "vitest";
import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "../openai/openai-test-config.js";
import { chatCompletionBody } from "../openai/scripted-openai-provider.js";

// Kill tests for src/providers/azure/create-azure-provider.ts (mutation testing, see docs/testing.md).

describe("createAzureProvider", () => {
  it("refuses a config without the resource endpoint, naming the provider", () => {
    // The config schema refuses such a config too; this is the factory's own guard for configs built in code.
    const config = { ...openAITestConfig("azure", "http://127.0.0.1:1"), baseUrl: undefined };
    expect(() => createAzureProvider(config)).toThrow(
      new Error("azure provider azure-test needs baseUrl (the resource endpoint)"),
    );
  });
});

function chatAnswer(): string {
  return chatCompletionBody({ model: "gpt-4o" });
}

describe("createAzureProvider: the resource endpoint", () => {
  it("drops every trailing slash of the endpoint, so requests reach /openai/deployments/…", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: chatAnswer() });
    try {
      const provider = createAzureProvider(openAITestConfig("azure", `${server.url}//`));
      const request = { model: "my-deployment", messages: [{ role: "user" as const, content: "Hi" }] };
      const result = await provider.chat(request, new AbortController().signal);
      expect(result.text).toBe("Hello");
      expect(server.requests.map((r) => r.path)).toEqual([
        "/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21",
      ]);
    } finally {
      await server.close();
    }
  });
});
