import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest, chunk } from "./scripted-openai-provider.js";

async function partsOf(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const read: StreamPart[] = [];
  for await (const part of parts) read.push(part);
  return read;
}

describe("OpenAI streams with more than one choice in a chunk", () => {
  it("stream the text of the choice of index 0, the one whose finish reason ends the stream, wherever it is listed", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        chunk([
          { index: 1, delta: { content: "other " }, finish_reason: null },
          { index: 0, delta: { content: "first " }, finish_reason: null },
        ]),
        chunk([
          { index: 1, delta: { content: "choice" }, finish_reason: "stop" },
          { index: 0, delta: { content: "choice" }, finish_reason: "stop" },
        ]),
        chunk([], { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }),
      ]),
    });
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const parts = await partsOf(provider.streamChat(chatRequest, new AbortController().signal));
      expect(parts.filter((p) => p.type === "delta").map((p) => (p.type === "delta" ? p.text : ""))).toEqual([
        "first ",
        "choice",
      ]);
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    } finally {
      await server.close();
    }
  });
});
