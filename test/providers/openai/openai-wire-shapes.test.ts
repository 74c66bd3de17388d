import { describe, expect, it } from "vitest";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders } from "../../support/scripted-server.js";
import { chatRequest, chunk, scriptedOpenAIProvider } from "./scripted-openai-provider.js";
import { openAISse } from "../../support/sse-framing.js";

const signal = new AbortController().signal;

const scripted = scriptedOpenAIProvider();
const providerAnswering = scripted.answering;

const usage = {
  prompt_tokens: 20,
  completion_tokens: 2,
  total_tokens: 22,
  prompt_tokens_details: { cached_tokens: 16 },
};

function completionChunk(text: string, finishReason: string | null): Record<string, unknown> {
  const choices = [{ index: 0, text, finish_reason: finishReason, logprobs: null }];
  return { id: "cmpl-1", object: "text_completion", created: 1, model: "inst-1", choices };
}

describe("OpenAI answers the emulator does not produce", () => {
  it("reads cached prompt tokens and tool_calls finish reasons", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: { ...jsonHeaders, "x-request-id": "req_abc" },
      body: JSON.stringify({
        id: "chatcmpl-2",
        object: "chat.completion",
        created: 1,
        model: "gpt-test-1",
        choices: [
          { index: 0, message: { role: "assistant", content: null }, finish_reason: "tool_calls", logprobs: null },
        ],
        usage,
      }),
    });
    expect(await provider.chat(chatRequest, signal)).toEqual({
      id: "chatcmpl-2",
      text: "",
      finishReason: "tool_calls",
      usage: { promptTokens: 20, completionTokens: 2, totalTokens: 22, cachedPromptTokens: 16, cacheWriteTokens: 0 },
      model: "gpt-test-1",
      providerRequestId: "req_abc",
    });
  });

  it("skips a filter-only chunk without id and yields one finish after the usage chunk", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        { id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [] },
        chunk([{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }]),
        chunk([{ index: 0, delta: { content: "Hel" }, finish_reason: null }]),
        chunk([{ index: 0, delta: { content: "lo" }, finish_reason: null }]),
        chunk([{ index: 0, delta: {}, finish_reason: "function_call" }]),
        chunk([], usage),
      ]),
    });
    const parts = await collectStream(provider.streamChat(chatRequest, signal));
    expect(parts).toEqual([
      { type: "delta", text: "Hel" },
      { type: "delta", text: "lo" },
      {
        type: "finish",
        id: "chatcmpl-9",
        finishReason: "tool_calls",
        usage: { promptTokens: 20, completionTokens: 2, totalTokens: 22, cachedPromptTokens: 16, cacheWriteTokens: 0 },
        model: "gpt-test-1",
        providerRequestId: undefined,
      },
    ]);
  });

  it("maps an unknown finish reason to other", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: sseHeaders,
      body: openAISse([chunk([{ index: 0, delta: { content: "x" }, finish_reason: "eos_token" }]), chunk([], usage)]),
    });
    const parts = await collectStream(provider.streamChat(chatRequest, signal));
    expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "other" });
  });

  it("fails a stream that sends [DONE] without the usage chunk", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: sseHeaders,
      body: openAISse([chunk([{ index: 0, delta: { content: "x" }, finish_reason: "stop" }])]),
    });
    const error = await providerErrorOf(provider.streamChat(chatRequest, signal));
    expect(error.kind).toBe("unavailable");
    expect(error.message).toBe("openai-test: stream ended before it completed");
  });

  it("fails a stream that has usage but no finish reason", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: { ...sseHeaders, "x-request-id": "req_cut" },
      body: openAISse([chunk([{ index: 0, delta: { content: "x" }, finish_reason: null }]), chunk([], usage)]),
    });
    const error = await providerErrorOf(provider.streamChat(chatRequest, signal));
    expect(error.kind).toBe("unavailable");
    expect(error.retryable).toBe(true);
    expect(error.providerRequestId).toBe("req_cut");
  });

  it("returns embeddings in input order whatever the wire order", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({
        object: "list",
        model: "emb-1",
        data: [
          { object: "embedding", index: 1, embedding: [0.5, -0.25] },
          { object: "embedding", index: 0, embedding: [0.125, 1] },
        ],
        usage: { prompt_tokens: 4, total_tokens: 4 },
      }),
    });
    expect(await provider.embed({ model: "emb", inputs: ["a", "b"] }, signal)).toEqual({
      embeddings: [
        [0.125, 1],
        [0.5, -0.25],
      ],
      usage: { promptTokens: 4, completionTokens: 0, totalTokens: 4, cachedPromptTokens: 0, cacheWriteTokens: 0 },
      model: "emb-1",
      providerRequestId: undefined,
    });
  });

  it("reports an embedding answer missing a vector as internal", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({
        object: "list",
        model: "emb-1",
        data: [{ object: "embedding", index: 0, embedding: [1] }],
        usage: { prompt_tokens: 2, total_tokens: 2 },
      }),
    });
    const error = await providerErrorOf(provider.embed({ model: "emb", inputs: ["a", "b"] }, signal));
    expect(error.kind).toBe("internal");
    expect(error.message).toContain("no vector for input 1");
  });

  it("reports a chat answer without choices as internal", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: jsonHeaders,
      body: JSON.stringify({ id: "c", object: "chat.completion", created: 1, model: "m", choices: [] }),
    });
    expect((await providerErrorOf(provider.chat(chatRequest, signal))).kind).toBe("internal");
  });

  it("reads streamed text through the text completion endpoint", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        completionChunk("A", null),
        completionChunk("B", "length"),
        {
          ...completionChunk("", null),
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        },
      ]),
    });
    const parts = await collectStream(provider.streamComplete({ model: "inst", prompt: "Say" }, signal));
    expect(streamedText(parts)).toBe("AB");
    expect(parts.at(-1)).toMatchObject({
      type: "finish",
      id: "cmpl-1",
      finishReason: "length",
      model: "inst-1",
      usage: { promptTokens: 3, completionTokens: 2, totalTokens: 5 },
    });
  });
});
