import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { retrySchema, type RetryConfig } from "../../../src/config/pipeline-schema.js";
import { startEmulator, type Emulator } from "../../../src/emulator/emulator.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider, StreamPart } from "../../../src/providers/provider.js";
import { openAITestConfig } from "../../providers/openai/openai-test-config.js";
import { scriptedProvider, type FakeOutcome } from "./retry-fake-provider.js";

// The trace records the delay the policy *meant* to wait; these tests measure the (fake) time it actually
// waited before the next attempt started, so a policy that records 5 s but sleeps less is caught.

const chat = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
const retryAfterMs = 5_000;

function retryConfig(overrides: Partial<RetryConfig> = {}): RetryConfig {
  // Backoff well under the retry-after, so the wait is the provider's retry-after alone.
  return retrySchema.parse({ baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 30_000, ...overrides });
}

function ampleBudget(): RetryBudget {
  return new RetryBudget({ ratio: 1, minPerSecond: 1_000_000 });
}

function context(): CallContext {
  return { deadline: undefined, clientId: "", trace: new CallTrace() };
}

/** The scripted fake, timed. */
function timedProvider(script: readonly FakeOutcome[]): { provider: Provider; startedAt: number[] } {
  return timed(scriptedProvider(script));
}

/** `inner`, with the (fake) clock's time at the start of every attempt. */
function timed(inner: Provider): { provider: Provider; startedAt: number[] } {
  const startedAt: number[] = [];
  const provider: Provider = {
    name: inner.name,
    type: inner.type,
    chat: (request, signal, ctx) => {
      startedAt.push(Date.now());
      return inner.chat(request, signal, ctx);
    },
    streamChat: (request, signal, ctx) => {
      startedAt.push(Date.now());
      return inner.streamChat(request, signal, ctx);
    },
    complete: (request, signal, ctx) => {
      startedAt.push(Date.now());
      return inner.complete(request, signal, ctx);
    },
    streamComplete: (request, signal, ctx) => {
      startedAt.push(Date.now());
      return inner.streamComplete(request, signal, ctx);
    },
    embed: (request, signal, ctx) => {
      startedAt.push(Date.now());
      return inner.embed(request, signal, ctx);
    },
  };
  return { provider, startedAt };
}

/**
 * Lets real I/O run until `condition` holds, without moving the fake clock (vi.waitFor would advance it):
 * setImmediate and performance are not faked here.
 */
async function realTimeUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const giveUpAt = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > giveUpAt) throw new Error("condition not reached");
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function collect(parts: AsyncIterable<StreamPart>): Promise<string> {
  let text = "";
  for await (const part of parts) if (part.type === "delta") text += part.text;
  return text;
}

describe("withRetry waits out the provider's retry-after on the clock", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("starts the second unary attempt no sooner than retry-after (5 s), and right after it", async () => {
    const { provider, startedAt } = timedProvider([{ fail: "rate_limited", retryAfterMs }, {}]);
    const ctx = context();
    const start = Date.now();
    const call = withRetry(provider, retryConfig(), ampleBudget(), { random: () => 0 }).chat(
      chat,
      new AbortController().signal,
      ctx,
    );
    let settled = false;
    void call.then(
      () => (settled = true),
      () => (settled = true),
    );

    await vi.advanceTimersByTimeAsync(retryAfterMs - 1);
    expect(startedAt).toEqual([start]);
    expect(settled).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toEqual([start, start + retryAfterMs]);
    await expect(call).resolves.toMatchObject({ text: "ok" });
    expect(ctx.trace.events).toMatchObject([{ type: "retry", attempt: 1, delayMs: retryAfterMs }]);
  });

  it("starts the second stream attempt no sooner than retry-after (5 s), and right after it", async () => {
    const { provider, startedAt } = timedProvider([{ fail: "overloaded", retryAfterMs }, { deltas: ["a", "b"] }]);
    const start = Date.now();
    const text = collect(
      withRetry(provider, retryConfig(), ampleBudget(), { random: () => 0 }).streamChat(
        chat,
        new AbortController().signal,
      ),
    );

    await vi.advanceTimersByTimeAsync(retryAfterMs - 1);
    expect(startedAt).toEqual([start]);

    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toEqual([start, start + retryAfterMs]);
    await expect(text).resolves.toBe("ab");
  });

  it("waits each retry-after in turn: two 5 s waits before the third attempt", async () => {
    const { provider, startedAt } = timedProvider([
      { fail: "unavailable", retryAfterMs },
      { fail: "unavailable", retryAfterMs },
      {},
    ]);
    const start = Date.now();
    const call = withRetry(provider, retryConfig({ maxAttempts: 3 }), ampleBudget(), { random: () => 0 }).complete(
      { model: "m", prompt: "p" },
      new AbortController().signal,
    );

    await vi.advanceTimersByTimeAsync(2 * retryAfterMs - 1);
    expect(startedAt).toEqual([start, start + retryAfterMs]);
    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toEqual([start, start + retryAfterMs, start + 2 * retryAfterMs]);
    await expect(call).resolves.toMatchObject({ text: "ok" });
  });
});

describe("withRetry waits out a real 'retry-after: 5' header from the emulator", () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator();
  });

  afterAll(() => emulator.close());

  afterEach(() => {
    vi.useRealTimers();
    emulator.setFault(undefined);
    emulator.reset();
  });

  it("sends the second request 5 s (fake) after the 429, not before", async () => {
    let seen = 0;
    emulator.setFault(() => (++seen === 1 ? { status: 429, retryAfterSeconds: 5 } : undefined));
    // Only the clock the retry sleeps on is faked; sockets and the emulator's I/O run for real.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const { provider, startedAt } = timed(createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`)));
    const ctx = context();
    const start = Date.now();
    const call = withRetry(provider, retryConfig(), ampleBudget(), { random: () => 0 }).chat(
      { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] },
      new AbortController().signal,
      ctx,
    );
    call.catch(() => undefined);
    // The 429 came back and the policy is asleep (it records the retry just before it sleeps).
    await realTimeUntil(() => ctx.trace.events.length === 1);
    expect(Date.now()).toBe(start);
    expect(emulator.records.map((r) => r.status)).toEqual([429]);
    expect(ctx.trace.events).toMatchObject([{ type: "retry", delayMs: retryAfterMs, reason: "rate_limited" }]);

    await vi.advanceTimersByTimeAsync(retryAfterMs - 1);
    expect(startedAt).toEqual([start]);

    await vi.advanceTimersByTimeAsync(1);
    expect(startedAt).toEqual([start, start + retryAfterMs]);
    await expect(call).resolves.toMatchObject({ text: expect.stringContaining("Echo") });
    expect(emulator.records.map((r) => r.status)).toEqual([429, 200]);
  });
});
