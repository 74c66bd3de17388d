import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderConfigInput } from "../../../src/config/config-schema.js";
import { type Emulator, startEmulator } from "../../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest, Provider } from "../../../src/providers/provider.js";
import { anthropicEmulatorConfig } from "./anthropic-emulator-config.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";

const model = "claude-test";
const signal = new AbortController().signal;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

function provider(overrides: Partial<ProviderConfigInput> = {}): Provider {
  return createAnthropicProvider(anthropicEmulatorConfig(emulator.url, overrides));
}

function sentBody(index = 0): unknown {
  const record = emulator.records[index];
  if (record === undefined) throw new Error(`the emulator received no request #${index}`);
  return record.request.body;
}

// "Hello there" is 2 tokens, "Be brief." 2: prompt = (2 + 3) + (2 + 3) + 3 = 13.
const greeting: ChatRequest = {
  model,
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hello there" },
  ],
};
const greetingUsage = {
  promptTokens: 13,
  completionTokens: 3,
  totalTokens: 16,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
};

describe("AnthropicProvider against the emulator: unary chat", () => {
  it("returns the text, stop reason, exact usage and request id", async () => {
    const result = await provider().chat(greeting, signal);
    expect(result).toMatchObject({ text: "Echo: Hello there", finishReason: "stop", model, usage: greetingUsage });
    expect(result.id).toMatch(/^msg_/);
    expect(result.providerRequestId).toMatch(/^req_/);
    expect(emulator.records[0]?.request).toMatchObject({ api: "anthropic", stream: false });
  });

  it("reports length when max_tokens cuts the answer", async () => {
    const result = await provider().chat({ ...greeting, maxTokens: 2 }, signal);
    expect(result).toMatchObject({ text: "Echo: Hello", finishReason: "length" });
    expect(result.usage.completionTokens).toBe(2);
  });

  it("reports stop when a stop sequence cuts the answer, and sends it as stop_sequences", async () => {
    const result = await provider().chat({ ...greeting, stop: ["there"] }, signal);
    expect(result).toMatchObject({ text: "Echo: Hello ", finishReason: "stop" });
    expect(sentBody()).toMatchObject({ stop_sequences: ["there"] });
  });

  it("reports content_filter for a refusal", async () => {
    const result = await provider({ headers: { "x-emulator-fault": "code=content_filter" } }).chat(greeting, signal);
    expect(result.finishReason).toBe("content_filter");
  });
});

describe("AnthropicProvider against the emulator: request mapping", () => {
  it("sends system messages as one system prompt and merges turns so that roles alternate", async () => {
    const result = await provider().chat(
      {
        model,
        messages: [
          { role: "system", content: "Rule one." },
          { role: "user", content: "first" },
          { role: "user", content: "second" },
          { role: "assistant", content: "ok" },
          { role: "system", content: "Rule two." },
          { role: "user", content: "third" },
        ],
      },
      signal,
    );
    expect(sentBody()).toMatchObject({
      system: "Rule one.\n\nRule two.",
      messages: [
        { role: "user", content: "first\n\nsecond" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "third" },
      ],
    });
    expect(result.text).toBe("Echo: third");
  });

  it("fills max_tokens from the provider's defaultMaxTokens and sends only the options that are set", async () => {
    await provider({ defaultMaxTokens: 77 }).chat({ model, messages: [{ role: "user", content: "Hi" }] }, signal);
    const body = sentBody();
    expect(body).toMatchObject({ max_tokens: 77 });
    expect(Object.keys(body as object).sort()).toEqual(["max_tokens", "messages", "model"]);
  });

  it("sends the request's own max_tokens, temperature, top_p and user", async () => {
    await provider({ defaultMaxTokens: 77 }).chat(
      { model, messages: [{ role: "user", content: "Hi" }], maxTokens: 5, temperature: 0.3, topP: 0.8, user: "user-9" },
      signal,
    );
    expect(sentBody()).toMatchObject({ max_tokens: 5, temperature: 0.3, top_p: 0.8, metadata: { user_id: "user-9" } });
  });

  it("refuses a conversation that starts with the assistant without calling the API", async () => {
    const error = await providerErrorOf(
      provider().chat({ model, messages: [{ role: "assistant", content: "Hi" }] }, signal),
    );
    expect(error).toMatchObject({ kind: "invalid_request", provider: "anthropic-test" });
    expect(emulator.records).toHaveLength(0);
  });
});

describe("AnthropicProvider against the emulator: streams", () => {
  it("yields one delta per token, then one finish with usage from message_start and message_delta", async () => {
    const parts = await collectStream(provider().streamChat(greeting, signal));
    expect(streamedText(parts)).toBe("Echo: Hello there");
    expect(parts.slice(0, -1).every((part) => part.type === "delta" && part.text !== "")).toBe(true);
    expect(parts).toHaveLength(4);
    const finish = parts.at(-1);
    expect(finish).toMatchObject({ type: "finish", finishReason: "stop", model, usage: greetingUsage });
    expect(finish?.type === "finish" ? finish.providerRequestId : undefined).toMatch(/^req_/);
    expect(finish?.type === "finish" ? finish.id : undefined).toMatch(/^msg_/);
    expect(emulator.records[0]?.request).toMatchObject({ api: "anthropic", stream: true });
  });

  it("reports length in the finish part when max_tokens cuts the stream", async () => {
    const parts = await collectStream(provider().streamChat({ ...greeting, maxTokens: 1 }, signal));
    expect(streamedText(parts)).toBe("Echo:");
    expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "length", usage: { completionTokens: 1 } });
  });
});

describe("AnthropicProvider against the emulator: completions and embeddings", () => {
  it("sends a completion prompt as one user message", async () => {
    const result = await provider().complete({ model, prompt: "Say hi", maxTokens: 50 }, signal);
    expect(result).toMatchObject({ text: "Echo: Say hi", finishReason: "stop" });
    // "Say hi" is 2 tokens: prompt = (2 + 3) + 3 = 8.
    expect(result.usage).toMatchObject({ promptTokens: 8, completionTokens: 3, totalTokens: 11 });
    expect(sentBody()).toMatchObject({ max_tokens: 50, messages: [{ role: "user", content: "Say hi" }] });
  });

  it("streams a completion", async () => {
    const parts = await collectStream(provider().streamComplete({ model, prompt: "Say hi" }, signal));
    expect(streamedText(parts)).toBe("Echo: Say hi");
    expect(parts.at(-1)).toMatchObject({
      type: "finish",
      finishReason: "stop",
      usage: { promptTokens: 8, completionTokens: 3 },
    });
    expect(sentBody()).toMatchObject({ stream: true, messages: [{ role: "user", content: "Say hi" }] });
  });

  it("refuses embeddings as unsupported without calling the API", async () => {
    const error = await providerErrorOf(provider().embed({ model, inputs: ["a"] }, signal));
    expect(error).toMatchObject({ kind: "unsupported", provider: "anthropic-test", retryable: false });
    expect(emulator.records).toHaveLength(0);
  });
});
