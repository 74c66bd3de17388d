import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest, chatCompletionBody } from "./scripted-openai-provider.js";

// Kill tests for src/providers/openai/openai-usage.ts (mutation testing, see docs/testing.md).

describe("openAIUsage: an answer whose usage has no total", () => {
  it("counts the total as prompt plus completion tokens", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: chatCompletionBody({ usage: { prompt_tokens: 5, completion_tokens: 3 } }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const result = await provider.chat(chatRequest, new AbortController().signal);
      expect(result.usage).toMatchObject({ promptTokens: 5, completionTokens: 3, totalTokens: 8 });
    } finally {
      await server.close();
    }
  });
});

describe("openAIUsage: an answer whose usage is null", () => {
  it("reports zero usage marked missing, so the gateway bills an estimate instead of nothing", async () => {
    // Some OpenAI-compatible servers answer `"usage": null`; billing prices a usage marked missing by estimate.
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: chatCompletionBody({ id: "chatcmpl-2", usage: null }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const result = await provider.chat(chatRequest, new AbortController().signal);
      expect(result.usage).toStrictEqual({
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        cachedPromptTokens: 0,
        cacheWriteTokens: 0,
        missing: true,
      });
    } finally {
      await server.close();
    }
  });
});
