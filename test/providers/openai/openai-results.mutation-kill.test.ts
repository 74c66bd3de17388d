import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest } from "./scripted-openai-provider.js";

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

  it("fails a chat answer without choices as internal, saying so", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({ id: "chatcmpl-1", object: "chat.completion", created: 1, model: "gpt-test", choices: [] }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("internal");
      expect(error.message).toBe("openai-test: unexpected failure: the chat completion has no choices");
    } finally {
      await server.close();
    }
  });
});

describe("openAIResults: completion answers", () => {
  it("answers with the choice of index 0 when the answer lists another choice first", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({
        id: "cmpl-2",
        object: "text_completion",
        created: 1,
        model: "gpt-test",
        choices: [
          { index: 1, text: "second choice", finish_reason: "length", logprobs: null },
          { index: 0, text: "first choice", finish_reason: "stop", logprobs: null },
        ],
        usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
      }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const result = await provider.complete({ model: "gpt-test", prompt: "Hi" }, new AbortController().signal);
      expect(result.text).toBe("first choice");
      expect(result.finishReason).toBe("stop");
    } finally {
      await server.close();
    }
  });

  it("passes on the rate-limit state the completion answer's headers report", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: {
        ...jsonHeaders,
        "x-ratelimit-limit-requests": "100",
        "x-ratelimit-remaining-requests": "99",
        "x-ratelimit-limit-tokens": "5000",
        "x-ratelimit-remaining-tokens": "4990",
      },
      body: JSON.stringify({
        id: "cmpl-3",
        object: "text_completion",
        created: 1,
        model: "gpt-test",
        choices: [{ index: 0, text: "ok", finish_reason: "stop", logprobs: null }],
        usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
      }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const result = await provider.complete({ model: "gpt-test", prompt: "Hi" }, new AbortController().signal);
      expect(result.rateLimit).toMatchObject({
        requests: { limit: 100, remaining: 99 },
        tokens: { limit: 5000, remaining: 4990 },
      });
    } finally {
      await server.close();
    }
  });
});

describe("openAIResults: chat answers", () => {
  it("answers with the choice of index 0 when the answer lists another choice first", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({
        id: "chatcmpl-2",
        object: "chat.completion",
        created: 1,
        model: "gpt-test",
        choices: [
          { index: 1, message: { role: "assistant", content: "second choice" }, finish_reason: "length" },
          { index: 0, message: { role: "assistant", content: "first choice" }, finish_reason: "stop" },
        ],
        usage: { prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 },
      }),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const result = await provider.chat(chatRequest, new AbortController().signal);
      expect(result.text).toBe("first choice");
      expect(result.finishReason).toBe("stop");
    } finally {
      await server.close();
    }
  });
});
