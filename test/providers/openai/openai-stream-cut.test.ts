import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { openAISse } from "../../support/sse-framing.js";
import { startRawAnswerServer } from "../raw-answer-server.js";
import { openAITestConfig } from "./openai-test-config.js";
import { chatRequest, chunk } from "./scripted-openai-provider.js";

/** A chat stream whose chunked framing breaks after its first event (a chunk size that is not hexadecimal). */
function brokenChunkedStream(): string {
  const event = openAISse([chunk([{ index: 0, delta: { content: "Hel" }, finish_reason: null }])], false);
  return (
    "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
    `${Buffer.byteLength(event).toString(16)}\r\n${event}\r\nzz\r\n`
  );
}

describe("an OpenAI stream cut by a broken HTTP framing", () => {
  it("fails as a lost connection (unavailable, retryable), not as an internal error", async () => {
    const server = await startRawAnswerServer(brokenChunkedStream());
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const parts: string[] = [];
      const error = await providerErrorOf(
        (async () => {
          for await (const part of provider.streamChat(chatRequest, new AbortController().signal)) {
            if (part.type === "delta") parts.push(part.text);
          }
        })(),
      );
      expect(parts).toEqual(["Hel"]);
      expect(error.kind).toBe("unavailable");
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/^openai-test: connection lost/);
    } finally {
      await server.close();
    }
  });
});
