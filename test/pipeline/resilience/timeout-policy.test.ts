import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { retrySchema, timeoutsSchema } from "../../../src/config/pipeline-schema.js";
import { startEmulator, type Emulator, type EmulatorRecord } from "../../../src/emulator/emulator.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { outcomeOfError } from "../../../src/pipeline/resilience/circuit-breaker.js";
import { fallbackTrigger } from "../../../src/pipeline/routing/route-fallback.js";
import { withTimeouts } from "../../../src/pipeline/resilience/timeout-policy.js";
import type { ProviderError } from "../../../src/providers/provider-error.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import { CallTrace } from "../../../src/providers/call-context.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider, StreamPart } from "../../../src/providers/provider.js";
import { anthropicTestConfig } from "../../providers/anthropic/anthropic-test-config.js";
import { openAITestConfig } from "../../providers/openai/openai-test-config.js";

const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "one two three four five six" }] };
const answer = "Echo: one two three four five six";

function limits(config: { firstTokenMs?: number; idleMs?: number; totalMs?: number }) {
  return timeoutsSchema.parse(config);
}

async function collect(parts: AsyncIterable<StreamPart>, pauseMs = 0): Promise<{ text: string; error: unknown }> {
  let text = "";
  try {
    for await (const part of parts) {
      if (part.type === "delta") text += part.text;
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error("condition not reached");
}

/** The record of the only request, once its exchange ended. */
async function onlyRecord(emulator: Emulator): Promise<EmulatorRecord> {
  expect(emulator.records).toHaveLength(1);
  const record = emulator.records[0];
  if (record === undefined) throw new Error("no record");
  await record.done;
  return record;
}

describe("withTimeouts against the emulator", () => {
  let emulator: Emulator;
  let openai: Provider;

  beforeAll(async () => {
    emulator = await startEmulator();
    openai = createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`, { timeoutMs: 60_000 }));
    // Warm the SDK and the connection pool up, so that the first limited call is not spent on that.
    await openai.chat(chat, new AbortController().signal);
  });

  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.reset();
  });

  afterAll(() => emulator.close());

  it("abandons a hung unary call within firstTokenMs and aborts the upstream request", async () => {
    emulator.setFault({ hang: true });
    const call = withTimeouts(openai, limits({ firstTokenMs: 400 })).chat(chat, new AbortController().signal);
    await expect(call).rejects.toMatchObject({ kind: "timeout", retryable: true, provider: "openai-test" });
    await expect(call).rejects.toThrow(/openai-test: timed out after 400 ms \(firstTokenMs/);
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true, status: 0 });
  }, 5_000);

  it("abandons a hung Anthropic call and an embedding call the same way", async () => {
    emulator.setFault({ hang: true });
    const anthropic = createAnthropicProvider(anthropicTestConfig(emulator.url, { timeoutMs: 60_000 }));
    const call = withTimeouts(anthropic, limits({ firstTokenMs: 400 })).chat(chat, new AbortController().signal);
    await expect(call).rejects.toMatchObject({ kind: "timeout", provider: "anthropic-test" });
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true });
    emulator.reset();
    const embed = withTimeouts(openai, limits({ totalMs: 400 })).embed(
      { model: "e", inputs: ["a"] },
      new AbortController().signal,
    );
    await expect(embed).rejects.toThrow(/totalMs/);
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true });
  }, 5_000);

  it("lets a unary answer that comes in time through", async () => {
    emulator.setFault({ latencyMs: 20 });
    const result = await withTimeouts(openai, limits({ firstTokenMs: 5_000, totalMs: 5_000 })).chat(
      chat,
      new AbortController().signal,
    );
    expect(result.text).toBe(answer);
  });

  it("abandons a stream whose first token does not come within firstTokenMs", async () => {
    emulator.setFault({ ttftMs: 60_000 });
    const { text, error } = await collect(
      withTimeouts(openai, limits({ firstTokenMs: 400 })).streamChat(chat, new AbortController().signal),
    );
    expect(text).toBe("");
    expect(error).toMatchObject({ kind: "timeout", message: expect.stringMatching(/firstTokenMs/) });
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true, status: 200, chunksSent: 0 });
  }, 5_000);

  it("abandons a stream that goes quiet for longer than idleMs after its first chunk", async () => {
    emulator.setFault({ chunkDelayMs: 60_000 });
    const { text, error } = await collect(
      withTimeouts(openai, limits({ firstTokenMs: 5_000, idleMs: 300 })).streamChat(chat, new AbortController().signal),
    );
    expect(text).toBe("Echo:");
    expect(error).toMatchObject({ kind: "timeout", message: expect.stringMatching(/idleMs/) });
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true, chunksSent: 1 });
  }, 5_000);

  it("ends a steady but slow stream at totalMs", async () => {
    emulator.setFault({ chunkDelayMs: 250 });
    const { text, error } = await collect(
      withTimeouts(openai, limits({ idleMs: 5_000, totalMs: 600 })).streamChat(chat, new AbortController().signal),
    );
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(answer.length);
    expect(error).toMatchObject({ kind: "timeout", message: expect.stringMatching(/totalMs/) });
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true });
  }, 5_000);

  it("marks totalMs passing while a slow reader holds the stream as caller-caused: not retryable, neutral for the breaker, no fallback", async () => {
    const { text, error } = await collect(
      withTimeouts(openai, limits({ idleMs: 5_000, totalMs: 300 })).streamChat(chat, new AbortController().signal),
      200,
    );
    expect(text.length).toBeLessThan(answer.length);
    expect(error).toMatchObject({ kind: "timeout", callerCaused: true, retryable: false });
    expect(outcomeOfError(error)).toBe("neutral");
    expect(fallbackTrigger(error as ProviderError)).toBeUndefined();
  }, 5_000);

  it("keeps totalMs passing while the provider is slow a provider failure", async () => {
    emulator.setFault({ chunkDelayMs: 250 });
    const { error } = await collect(
      withTimeouts(openai, limits({ idleMs: 5_000, totalMs: 600 })).streamChat(chat, new AbortController().signal),
    );
    expect(error).toMatchObject({ kind: "timeout", callerCaused: false, retryable: true });
    expect(outcomeOfError(error)).toBe("failure");
    expect(fallbackTrigger(error as ProviderError)).toBe("retryable");
  }, 5_000);

  it("does not count a slow consumer against idleMs", async () => {
    const { text, error } = await collect(
      withTimeouts(openai, limits({ idleMs: 50 })).streamChat(chat, new AbortController().signal),
      120,
    );
    expect(error).toBeUndefined();
    expect(text).toBe(answer);
  });

  it("reports the caller's own cancel as cancelled, not timeout", async () => {
    emulator.setFault({ hang: true });
    const controller = new AbortController();
    const call = withTimeouts(openai, limits({ firstTokenMs: 10_000 })).chat(chat, controller.signal);
    await waitFor(() => emulator.records.length === 1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: "cancelled" });
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true });
  }, 5_000);

  it("aborts the upstream stream when the consumer stops early", async () => {
    emulator.setFault({ chunkDelayMs: 50 });
    const stream = withTimeouts(openai, limits({ idleMs: 5_000 })).streamChat(chat, new AbortController().signal);
    for await (const part of stream) {
      expect(part).toMatchObject({ type: "delta" });
      break;
    }
    expect(await onlyRecord(emulator)).toMatchObject({ aborted: true });
  }, 5_000);

  it("lets retry move on from a hung first attempt to a healthy second one", async () => {
    let requests = 0;
    emulator.setFault(() => (++requests === 1 ? { hang: true } : undefined));
    const trace = new CallTrace();
    const policy = withRetry(
      withTimeouts(openai, limits({ firstTokenMs: 400 })),
      retrySchema.parse({ baseDelayMs: 1, maxDelayMs: 2 }),
      new RetryBudget({ ratio: 0.1, minPerSecond: 1 }),
    );
    const { text, error } = await collect(
      policy.streamChat(chat, new AbortController().signal, { deadline: undefined, clientId: "", trace }),
    );
    expect(error).toBeUndefined();
    expect(text).toBe(answer);
    expect(trace.events).toMatchObject([{ type: "retry", reason: "timeout" }]);
    const first = emulator.records[0];
    await first?.done;
    expect(first?.aborted).toBe(true);
  }, 5_000);
});

describe("withTimeouts with fake providers", () => {
  const base = {
    name: "stuck",
    type: "openai" as const,
    chat: () => Promise.reject(new Error("unused")),
    streamChat: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("unused")) }) }),
    complete: () => Promise.reject(new Error("unused")),
    streamComplete: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("unused")) }) }),
    embed: () => Promise.reject(new Error("unused")),
  };

  it("returns the provider itself when no limit is set", () => {
    expect(withTimeouts(base, limits({}))).toBe(base);
  });

  it("abandons a provider that ignores its signal, and aborts that signal", async () => {
    let received: AbortSignal | undefined;
    const stuck: Provider = {
      ...base,
      complete: (_request, signal) => {
        received = signal;
        return new Promise(() => undefined);
      },
    };
    const call = withTimeouts(stuck, limits({ firstTokenMs: 50 })).complete(
      { model: "m", prompt: "p" },
      new AbortController().signal,
    );
    await expect(call).rejects.toMatchObject({ kind: "timeout", provider: "stuck" });
    expect(received?.aborted).toBe(true);
  }, 5_000);

  it("ends at once as cancelled when the caller cancels, even if the provider ignores its signal", async () => {
    const stuck: Provider = { ...base, chat: () => new Promise(() => undefined) };
    const controller = new AbortController();
    const call = withTimeouts(stuck, limits({ firstTokenMs: 60_000 })).chat(chat, controller.signal);
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: "cancelled", provider: "stuck" });
  }, 5_000);

  it("abandons a stream whose next part never comes, even if its iterator ignores the signal", async () => {
    const stuck: Provider = {
      ...base,
      streamComplete: () => ({
        [Symbol.asyncIterator]: () => {
          let sent = false;
          return {
            next: () => {
              if (sent) return new Promise<IteratorResult<StreamPart>>(() => undefined);
              sent = true;
              return Promise.resolve({ done: false as const, value: { type: "delta" as const, text: "hi" } });
            },
          };
        },
      }),
    };
    const { text, error } = await collect(
      withTimeouts(stuck, limits({ idleMs: 50 })).streamComplete(
        { model: "m", prompt: "p" },
        new AbortController().signal,
      ),
    );
    expect(text).toBe("hi");
    expect(error).toMatchObject({ kind: "timeout", message: expect.stringMatching(/idleMs/) });
  }, 5_000);

  it("passes the inner provider's own errors through unchanged", async () => {
    const failure = new Error("boom");
    const failing: Provider = { ...base, chat: () => Promise.reject(failure) };
    await expect(
      withTimeouts(failing, limits({ firstTokenMs: 1_000 })).chat(chat, new AbortController().signal),
    ).rejects.toBe(failure);
  });
});
