import { afterEach, describe, expect, it } from "vitest";
import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { collectStream } from "../../support/collect-stream.js";
import { openAITestConfig, testApiKey } from "../openai/openai-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer, type ScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";

const signal = new AbortController().signal;
const chatRequest = { model: "my-deployment", messages: [{ role: "user" as const, content: "Hi" }] };

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("Azure OpenAI request shape", () => {
  it("routes by deployment with api-version and the api-key header", async () => {
    server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    const provider = createAzureProvider(openAITestConfig("azure", `${server.url}/`));
    await providerErrorOf(provider.chat(chatRequest, signal));
    await providerErrorOf(provider.embed({ model: "emb-deployment", inputs: ["a"] }, signal));
    const [chat, embed] = server.requests;
    expect(chat?.path).toBe("/openai/deployments/my-deployment/chat/completions?api-version=2024-10-21");
    expect(embed?.path).toBe("/openai/deployments/emb-deployment/embeddings?api-version=2024-10-21");
    expect(chat?.headers["api-key"]).toBe(testApiKey);
    expect(chat?.headers.authorization).toBeUndefined();
  });

  it("uses the configured api-version", async () => {
    server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    const provider = createAzureProvider(openAITestConfig("azure", server.url, { apiVersion: "2024-12-01-preview" }));
    await providerErrorOf(provider.complete({ model: "inst", prompt: "Say" }, signal));
    expect(server.requests[0]?.path).toBe("/openai/deployments/inst/completions?api-version=2024-12-01-preview");
  });

  it("maps the 2023 content-filter body (type null, no innererror) to content_filter", async () => {
    server = await startScriptedServer({
      status: 400,
      headers: { ...jsonHeaders, "apim-request-id": "apim-7" },
      body: JSON.stringify({
        error: {
          message: "The response was filtered.",
          type: null,
          param: "prompt",
          code: "content_filter",
          status: 400,
        },
      }),
    });
    const provider = createAzureProvider(openAITestConfig("azure", server.url));
    const error = await providerErrorOf(provider.chat(chatRequest, signal));
    expect(error.kind).toBe("content_filter");
    expect(error.retryable).toBe(false);
    expect(error.providerRequestId).toBe("apim-7");
    expect(error.message).toBe("azure-test: The response was filtered.");
  });

  it("fails a stream without the usage chunk", async () => {
    server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: openAISse([
        {
          id: "c",
          object: "chat.completion.chunk",
          created: 1,
          model: "m",
          choices: [{ index: 0, delta: { content: "x" }, finish_reason: "stop" }],
        },
      ]),
    });
    const provider = createAzureProvider(openAITestConfig("azure", server.url));
    const error = await providerErrorOf(collectStream(provider.streamChat(chatRequest, signal)));
    expect(error.kind).toBe("unavailable");
  });
});
