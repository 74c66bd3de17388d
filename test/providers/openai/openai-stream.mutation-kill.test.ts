import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest } from "./scripted-openai-provider.js";

// Kill tests for src/providers/openai/openai-stream.ts (mutation testing, see docs/testing.md): the finish part
// names the stream by the first id and model it carried, and a stream of several choices (n > 1) passes on
// only the choice of index 0.

/** One chat.completion.chunk with its own id and model. */
function chunkOf(id: string, model: string, choices: unknown[], usage: unknown = null): Record<string, unknown> {
  return { id, object: "chat.completion.chunk", created: 1, model, choices, usage };
}

const usage = { prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 };

describe("openAIStream: the stream's id and model", () => {
  it("come from the first chunk that carries them, not from later chunks naming others", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        // Azure's first chunk: content-filter results only, with an empty id and model.
        { id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [] },
        chunkOf("chatcmpl-first", "gpt-first", [{ index: 0, delta: { role: "assistant", content: "Hel" } }]),
        chunkOf("chatcmpl-later", "gpt-later", [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }]),
        chunkOf("chatcmpl-last", "gpt-last", [], usage),
      ]),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const parts = await collectStream(provider.streamChat(chatRequest, new AbortController().signal));
      expect(streamedText(parts)).toBe("Hello");
      expect(parts.at(-1)).toMatchObject({ type: "finish", id: "chatcmpl-first", model: "gpt-first" });
    } finally {
      await server.close();
    }
  });
});

describe("openAIStream: a stream of two choices", () => {
  it("passes on the text and finish reason of choice 0 only", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        chunkOf("chatcmpl-n2", "gpt-test", [{ index: 0, delta: { role: "assistant", content: "Hel" } }]),
        chunkOf("chatcmpl-n2", "gpt-test", [{ index: 1, delta: { role: "assistant", content: "Other" } }]),
        chunkOf("chatcmpl-n2", "gpt-test", [{ index: 0, delta: { content: "lo" }, finish_reason: "stop" }]),
        chunkOf("chatcmpl-n2", "gpt-test", [{ index: 1, delta: {}, finish_reason: "length" }]),
        chunkOf("chatcmpl-n2", "gpt-test", [], usage),
      ]),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const parts = await collectStream(provider.streamChat(chatRequest, new AbortController().signal));
      expect(streamedText(parts)).toBe("Hello");
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    } finally {
      await server.close();
    }
  });
});
