import { afterEach, describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/secret.js";
import { createOpenAICompatibleProvider } from "../../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { openAITestConfig } from "../openai/openai-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import {
  sseHeaders,
  startScriptedServer,
  type ScriptedServer,
  type ScriptedResponse,
} from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";

const signal = new AbortController().signal;
const chatRequest = { model: "llama", messages: [{ role: "user" as const, content: "Hi" }] };

function chunk(content: string, finishReason: string | null): Record<string, unknown> {
  const choices = [{ index: 0, delta: { content }, finish_reason: finishReason }];
  return { id: "c-1", object: "chat.completion.chunk", created: 1, model: "llama-3", choices };
}

function streamOf(chunks: unknown[], done = true): ScriptedResponse {
  return { status: 200, headers: sseHeaders, body: openAISse(chunks, done) };
}

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("OpenAI-compatible servers", () => {
  it("accept a stream that has a finish reason but no usage chunk, with zero usage marked missing", async () => {
    server = await startScriptedServer(streamOf([chunk("Hi", null), chunk(" there", "stop")]));
    const provider = createOpenAICompatibleProvider(openAITestConfig("openai-compatible", `${server.url}/v1`));
    const parts = await collectStream(provider.streamChat(chatRequest, signal));
    expect(streamedText(parts)).toBe("Hi there");
    expect(parts.at(-1)).toEqual({
      type: "finish",
      id: "c-1",
      finishReason: "stop",
      usage: {
        promptTokens: 0,
        completionTokens: 0,
        totalTokens: 0,
        cachedPromptTokens: 0,
        cacheWriteTokens: 0,
        missing: true,
      },
      model: "llama-3",
      providerRequestId: undefined,
    });
  });

  it("still fail a stream that ends without a finish reason", async () => {
    server = await startScriptedServer(streamOf([chunk("Hi", null)], false));
    const provider = createOpenAICompatibleProvider(openAITestConfig("openai-compatible", `${server.url}/v1`));
    const error = await providerErrorOf(provider.streamChat(chatRequest, signal));
    expect(error.kind).toBe("unavailable");
    expect(error.message).toBe("openai-compatible-test: stream ended before it completed");
  });

  it("work without an API key (local servers)", async () => {
    server = await startScriptedServer(streamOf([chunk("ok", "stop")]));
    const config = openAITestConfig("openai-compatible", `${server.url}/v1`, { apiKey: new Secret("") });
    const provider = createOpenAICompatibleProvider(config);
    expect(streamedText(await collectStream(provider.streamChat(chatRequest, signal)))).toBe("ok");
    expect(server.requests[0]?.path).toBe("/v1/chat/completions");
    expect(provider.type).toBe("openai-compatible");
  });
});
