import { getEventListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { detachedContext } from "../../../src/providers/call-context.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { collectStream } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatCompletionBody } from "./scripted-openai-provider.js";

// Kill tests for src/providers/openai/openai-provider.ts (mutation testing, see docs/testing.md): the legacy
// completions endpoint gets the call's signal and the context's response-headers listener, as chat does; every
// call lets go of the caller's signal when it ends.

function completionAnswer(): string {
  return JSON.stringify({
    id: "cmpl-1",
    object: "text_completion",
    created: 1,
    model: "gpt-test",
    choices: [{ index: 0, text: "Hello", finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
  });
}

function completionStream(): string {
  const chunk = (choices: unknown[], usage: unknown = null) => ({
    id: "cmpl-2",
    object: "text_completion",
    created: 1,
    model: "gpt-test",
    choices,
    usage,
  });
  return openAISse([
    chunk([{ index: 0, text: "Hel", finish_reason: null, logprobs: null }]),
    chunk([{ index: 0, text: "lo", finish_reason: "stop", logprobs: null }]),
    chunk([], { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 }),
  ]);
}

describe("OpenAIProvider completions: the call's signal", () => {
  it("sends nothing and fails as cancelled when the caller cancelled a completion before it started", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: completionAnswer() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const controller = new AbortController();
      controller.abort();
      const error = await providerErrorOf(provider.complete({ model: "gpt-test", prompt: "Hi" }, controller.signal));
      expect(error.kind).toBe("cancelled");
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it("sends nothing and fails as cancelled when the caller cancelled a completion stream before it started", async () => {
    const server = await startScriptedServer({ status: 200, headers: sseHeaders, body: completionStream() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const controller = new AbortController();
      controller.abort();
      const parts = provider.streamComplete({ model: "gpt-test", prompt: "Hi" }, controller.signal);
      const error = await providerErrorOf(parts);
      expect(error.kind).toBe("cancelled");
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it("streams a completion when the caller does not cancel", async () => {
    const server = await startScriptedServer({ status: 200, headers: sseHeaders, body: completionStream() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const parts = await collectStream(
        provider.streamComplete({ model: "gpt-test", prompt: "Hi" }, new AbortController().signal),
      );
      expect(parts.map((part) => (part.type === "delta" ? part.text : part.finishReason))).toEqual([
        "Hel",
        "lo",
        "stop",
      ]);
    } finally {
      await server.close();
    }
  });
});

describe("OpenAIProvider completions: the call context", () => {
  it("tells the context once when the completion's response headers arrive", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: completionAnswer() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      let headersArrived = 0;
      const context = { ...detachedContext(), onResponseHeaders: () => (headersArrived += 1) };
      const result = await provider.complete(
        { model: "gpt-test", prompt: "Hi" },
        new AbortController().signal,
        context,
      );
      expect(result.text).toBe("Hello");
      expect(headersArrived).toBe(1);
    } finally {
      await server.close();
    }
  });
});

function chatAnswer(): string {
  return chatCompletionBody();
}

// Without pipeline time limits, the attempt policy hands the RPC's own signal to every attempt of the call
// (retries, fallbacks): a call must let go of it when it ends, or each attempt leaves a listener on it.
describe("OpenAIProvider: the caller's signal once a call ended", () => {
  it("holds no listener on it after a chat answer", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: chatAnswer() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const signal = new AbortController().signal;
      const call = provider.chat({ model: "gpt-test", messages: [{ role: "user", content: "Hi" }] }, signal);
      expect(getEventListeners(signal, "abort")).toHaveLength(1);
      expect((await call).text).toBe("Hello");
      expect(getEventListeners(signal, "abort")).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it("holds no listener on it after a completion stream ended", async () => {
    const server = await startScriptedServer({ status: 200, headers: sseHeaders, body: completionStream() });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const signal = new AbortController().signal;
      const seen: string[] = [];
      for await (const part of provider.streamComplete({ model: "gpt-test", prompt: "Hi" }, signal)) {
        // While the stream runs, a cancel of the caller's signal still reaches the upstream call.
        const listening = getEventListeners(signal, "abort").length;
        seen.push(`${part.type === "delta" ? part.text : part.finishReason} (${listening})`);
      }
      expect(seen).toEqual(["Hel (1)", "lo (1)", "stop (1)"]);
      expect(getEventListeners(signal, "abort")).toHaveLength(0);
    } finally {
      await server.close();
    }
  });
});
