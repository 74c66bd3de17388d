import { afterEach, describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { collectStream } from "../../support/collect-stream.js";
import { openAITestConfig, testApiKey } from "./openai-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { jsonHeaders, sseHeaders, startScriptedServer, type ScriptedServer } from "../../support/scripted-server.js";
import { openAISse } from "../../support/sse-framing.js";

const chatAnswer = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-test",
  choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};

const hi = { model: "gpt-test", messages: [{ role: "user" as const, content: "Hi" }] };
const live = (): AbortSignal => new AbortController().signal;

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(body: unknown, headers = jsonHeaders, status = 200): Promise<ScriptedServer> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  server = await startScriptedServer({ status, headers, body: text });
  return server;
}

function onlyRequest(s: ScriptedServer) {
  expect(s.requests).toHaveLength(1);
  const [request] = s.requests;
  if (!request) throw new Error("no request");
  return request;
}

describe("OpenAI request bodies", () => {
  it("maps every sampling option and message role to the wire names", async () => {
    const s = await serve(chatAnswer);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    await provider.chat(
      {
        model: "gpt-test",
        messages: [
          { role: "system", content: "Be terse." },
          { role: "user", content: "Hi", name: "ann" },
          { role: "assistant", content: "Hello" },
        ],
        maxTokens: 7,
        temperature: 0.5,
        topP: 0.9,
        stop: ["\n", "END"],
        user: "u-1",
      },
      live(),
    );
    const request = onlyRequest(s);
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v1/chat/completions");
    expect(request.body).toEqual({
      model: "gpt-test",
      messages: [
        { role: "system", content: "Be terse." },
        { role: "user", content: "Hi", name: "ann" },
        { role: "assistant", content: "Hello" },
      ],
      max_tokens: 7,
      temperature: 0.5,
      top_p: 0.9,
      stop: ["\n", "END"],
      user: "u-1",
    });
  });

  it("sends only the fields that are set", async () => {
    const s = await serve(chatAnswer);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    await provider.chat({ ...hi, stop: [] }, live());
    expect(onlyRequest(s).body).toEqual({ model: "gpt-test", messages: [{ role: "user", content: "Hi" }] });
  });

  it("asks a stream for its usage chunk", async () => {
    const s = await serve(openAISse([]), sseHeaders);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    await providerErrorOf(provider.streamChat(hi, live()));
    expect(onlyRequest(s).body).toEqual({
      model: "gpt-test",
      messages: [{ role: "user", content: "Hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("sends completion and embedding bodies to their endpoints", async () => {
    const s = await serve({});
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    const signal = live();
    await providerErrorOf(provider.complete({ model: "inst", prompt: "Say", maxTokens: 3 }, signal));
    await providerErrorOf(provider.embed({ model: "emb", inputs: ["a", "b"], dimensions: 8, user: "u" }, signal));
    expect(s.requests.map((r) => [r.path, r.body])).toEqual([
      ["/v1/completions", { model: "inst", prompt: "Say", max_tokens: 3 }],
      ["/v1/embeddings", { model: "emb", input: ["a", "b"], dimensions: 8, user: "u", encoding_format: "float" }],
    ]);
  });

  it("rejects a tool message as invalid_request without calling the provider", async () => {
    const s = await serve(chatAnswer);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    const error = await providerErrorOf(
      provider.chat({ model: "gpt-test", messages: [{ role: "tool", content: "42" }] }, live()),
    );
    expect(error.kind).toBe("invalid_request");
    expect(error.provider).toBe("openai-test");
    expect(s.requests).toHaveLength(0);
  });

  it("authenticates with the key, organization, project and configured headers", async () => {
    const s = await serve(chatAnswer);
    const config = openAITestConfig("openai", `${s.url}/v1`, {
      organization: "org-1",
      project: "proj-1",
      headers: { "x-team": "search" },
    });
    await createOpenAIProvider(config).chat(hi, live());
    const { headers } = onlyRequest(s);
    expect(headers.authorization).toBe(`Bearer ${testApiKey}`);
    expect(headers["openai-organization"]).toBe("org-1");
    expect(headers["openai-project"]).toBe("proj-1");
    expect(headers["x-team"]).toBe("search");
  });

  it("never retries inside the SDK: the pipeline owns retries", async () => {
    const body = { error: { message: "Slow down", type: "requests", code: "rate_limit_exceeded" } };
    const s = await serve(body, jsonHeaders, 429);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    const error = await providerErrorOf(provider.chat(hi, live()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.kind).toBe("rate_limited");
    expect(s.requests).toHaveLength(1);
  });

  it("does not call the provider when the signal is already aborted", async () => {
    const s = await serve(chatAnswer);
    const provider = createOpenAIProvider(openAITestConfig("openai", `${s.url}/v1`));
    const controller = new AbortController();
    controller.abort();
    const error = await providerErrorOf(collectStream(provider.streamChat(hi, controller.signal)));
    expect(error.kind).toBe("cancelled");
    expect(s.requests).toHaveLength(0);
  });
});
