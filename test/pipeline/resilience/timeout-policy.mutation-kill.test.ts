import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { timeoutsSchema } from "../../../src/config/pipeline-schema.js";
import { startEmulator, type Emulator } from "../../../src/emulator/emulator.js";
import { withTimeouts } from "../../../src/pipeline/resilience/timeout-policy.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { openAITestConfig } from "../../providers/openai/openai-test-config.js";

/** Kills mutants of src/pipeline/resilience/timeout-policy.ts that survived (docs/mutation/timeout-policy-survivors.md). */

const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "one two three" }] };
const limits = (config: { firstTokenMs?: number; idleMs?: number; totalMs?: number }) => timeoutsSchema.parse(config);

async function errorOf(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("withTimeouts: messages and calls outside an RPC", () => {
  let emulator: Emulator;
  let openai: Provider;
  beforeAll(async () => {
    emulator = await startEmulator();
    openai = createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`, { timeoutMs: 60_000 }));
    await openai.chat(chat, new AbortController().signal);
  });
  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.reset();
  });
  afterAll(() => emulator.close());

  it("ends firstTokenMs at the answer's headers for a call made without a context (a health check)", async () => {
    emulator.setFault({ bodyDelayMs: 600 });
    const answer = await withTimeouts(openai, limits({ firstTokenMs: 200 })).chat(chat, new AbortController().signal);
    expect(answer.text).toBe("Echo: one two three");
  });

  it("says exactly which limit passed, and nothing about acceptance when the provider had not answered", async () => {
    emulator.setFault({ hang: true });
    const error = await errorOf(
      withTimeouts(openai, limits({ firstTokenMs: 200 })).chat(chat, new AbortController().signal),
    );
    expect((error as ProviderError).message).toBe(
      "openai-test: timed out after 200 ms (firstTokenMs: time to the first token, or to a unary answer's headers); the call was abandoned",
    );
  });

  it("says a slow reader held the stream past totalMs", async () => {
    const stream = withTimeouts(openai, limits({ idleMs: 5_000, totalMs: 300 })).streamChat(
      chat,
      new AbortController().signal,
    );
    const error = await errorOf(
      (async () => {
        for await (const part of stream) {
          void part;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })(),
    );
    expect((error as ProviderError).message).toBe(
      "openai-test: the stream was not read to its end within 300 ms (totalMs: the whole call); the call was abandoned",
    );
  });
});

describe("withTimeouts: a stream that fails to open", () => {
  it("passes on the error of a provider whose stream fails before it is an iterator", async () => {
    const failing = new ProviderError({ kind: "unavailable", provider: "p", message: "p: cannot open" });
    const provider: Provider = {
      name: "p",
      type: "openai",
      chat: () => Promise.reject(failing),
      complete: () => Promise.reject(failing),
      embed: () => Promise.reject(failing),
      streamChat: (): AsyncIterable<StreamPart> => {
        throw failing;
      },
      streamComplete: (): AsyncIterable<StreamPart> => {
        throw failing;
      },
    };
    const stream = withTimeouts(provider, limits({ firstTokenMs: 1_000 })).streamChat(
      chat,
      new AbortController().signal,
    );
    const error = await errorOf(
      (async () => {
        for await (const part of stream) void part;
      })(),
    );
    expect(error).toBe(failing);
  });
});
