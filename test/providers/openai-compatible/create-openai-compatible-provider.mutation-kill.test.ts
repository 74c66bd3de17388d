import { describe, expect, it } from "vitest";
import { createOpenAICompatibleProvider } from "../../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "../openai/openai-test-config.js";
import { chatRequest, chatCompletionBody } from "../openai/scripted-openai-provider.js";

// Kill tests for src/providers/openai-compatible/create-openai-compatible-provider.ts (mutation testing, see
// docs/testing.md).

describe("createOpenAICompatibleProvider", () => {
  it("refuses a config without baseUrl, naming the provider", () => {
    // The config schema refuses such a config too; this is the factory's own guard for configs built in code.
    const config = { ...openAITestConfig("openai-compatible", "http://127.0.0.1:1"), baseUrl: undefined };
    expect(() => createOpenAICompatibleProvider(config)).toThrow(
      new Error("openai-compatible provider openai-compatible-test needs baseUrl"),
    );
  });

  it("sends the configured organization and project with each call", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: chatCompletionBody(),
    });
    try {
      const config = openAITestConfig("openai-compatible", `${server.url}/v1`, {
        organization: "org-compat",
        project: "proj-compat",
      });
      const result = await createOpenAICompatibleProvider(config).chat(chatRequest, new AbortController().signal);
      expect(result.text).toBe("Hello");
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]?.headers["openai-organization"]).toBe("org-compat");
      expect(server.requests[0]?.headers["openai-project"]).toBe("proj-compat");
    } finally {
      await server.close();
    }
  });
});
