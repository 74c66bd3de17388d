import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { retrySchema, type RetryConfig } from "../../../src/config/pipeline-schema.js";
import { startEmulator, type Emulator, type EmulatedRequest } from "../../../src/emulator/emulator.js";
import type { Fault } from "../../../src/emulator/fault.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider, StreamPart } from "../../../src/providers/provider.js";
import { anthropicTestConfig } from "../../providers/anthropic/anthropic-test-config.js";
import { openAITestConfig } from "../../providers/openai/openai-test-config.js";

const chat = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "one two three four" }] };
const answer = "Echo: one two three four";

function retryConfig(overrides: Partial<RetryConfig> = {}): RetryConfig {
  return retrySchema.parse({ baseDelayMs: 1, maxDelayMs: 5, ...overrides });
}

function ampleBudget(): RetryBudget {
  return new RetryBudget({ ratio: 1, minPerSecond: 1_000_000 });
}

function context(deadline?: number): CallContext {
  return { deadline, clientId: "", trace: new CallTrace() };
}

/** A per-run fault that strikes the first `count` requests (of the kind `matches` accepts), then none. */
function firstRequests(count: number, fault: Fault, matches: (request: EmulatedRequest) => boolean = () => true) {
  let seen = 0;
  return (request: EmulatedRequest): Fault | undefined => {
    if (!matches(request)) return undefined;
    seen += 1;
    return seen <= count ? fault : undefined;
  };
}

async function collect(parts: AsyncIterable<StreamPart>): Promise<{ text: string; error: unknown }> {
  let text = "";
  try {
    for await (const part of parts) if (part.type === "delta") text += part.text;
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error("condition not reached");
}

describe("withRetry against the emulator", () => {
  let emulator: Emulator;
  let openai: Provider;

  beforeAll(async () => {
    emulator = await startEmulator();
    openai = createOpenAIProvider(openAITestConfig("openai", `${emulator.url}/v1`));
  });

  beforeEach(() => {
    emulator.setFault(undefined);
    emulator.reset();
  });

  afterAll(() => emulator.close());

  it("waits out a 429's retry-after-ms, then succeeds", async () => {
    emulator.setFault(firstRequests(1, { status: 429, retryAfterMs: 30 }));
    const ctx = context();
    const result = await withRetry(openai, retryConfig(), ampleBudget()).chat(chat, new AbortController().signal, ctx);
    expect(result.text).toBe(answer);
    expect(emulator.records.map((r) => r.status)).toEqual([429, 200]);
    expect(ctx.trace.events).toEqual([
      { type: "retry", provider: "openai-test", model: "gpt-4o-mini", attempt: 1, delayMs: 30, reason: "rate_limited" },
    ]);
  });

  it("retries 503 twice, then succeeds on the third request (Azure)", async () => {
    const azure = createAzureProvider(openAITestConfig("azure", emulator.url));
    emulator.setFault(firstRequests(2, { status: 503 }));
    const result = await withRetry(azure, retryConfig(), ampleBudget()).chat(chat, new AbortController().signal);
    expect(result.text).toBe(answer);
    expect(emulator.records.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("retries Anthropic's 529 overloaded", async () => {
    const anthropic = createAnthropicProvider(anthropicTestConfig(emulator.url));
    emulator.setFault(firstRequests(1, { status: 529 }));
    const ctx = context();
    const result = await withRetry(anthropic, retryConfig(), ampleBudget()).chat(
      chat,
      new AbortController().signal,
      ctx,
    );
    expect(result.text).toBe(answer);
    expect(emulator.records.map((r) => r.status)).toEqual([529, 200]);
    expect(ctx.trace.events).toMatchObject([{ type: "retry", reason: "overloaded" }]);
  });

  it("marks the last 503 of maxAttempts as exhausted", async () => {
    emulator.setFault({ status: 503 });
    const call = withRetry(openai, retryConfig({ maxAttempts: 3 }), ampleBudget()).chat(
      chat,
      new AbortController().signal,
    );
    await expect(call).rejects.toMatchObject({ status: 503, retryable: true, retriesExhausted: true });
    expect(emulator.records).toHaveLength(3);
  });

  it("does not retry a 400", async () => {
    emulator.setFault({ status: 400 });
    const call = withRetry(openai, retryConfig(), ampleBudget()).chat(chat, new AbortController().signal);
    await expect(call).rejects.toMatchObject({ kind: "invalid_request", retriesExhausted: false });
    expect(emulator.records).toHaveLength(1);
  });

  it("fails at once when the retry-after would pass the deadline", async () => {
    emulator.setFault({ status: 429, retryAfterMs: 60_000 });
    const ctx = context(Date.now() + 1_000);
    const call = withRetry(openai, retryConfig({ maxRetryAfterMs: 120_000 }), ampleBudget()).chat(
      chat,
      new AbortController().signal,
      ctx,
    );
    await expect(call).rejects.toMatchObject({ kind: "rate_limited", retryAfterMs: 60_000, retriesExhausted: false });
    expect(emulator.records).toHaveLength(1);
    expect(ctx.trace.events).toEqual([]);
  }, 5_000);

  it("fails at once when retry-after (in seconds) exceeds maxRetryAfterMs", async () => {
    emulator.setFault({ status: 429, retryAfterSeconds: 30 });
    const call = withRetry(openai, retryConfig({ maxRetryAfterMs: 1_000 }), ampleBudget()).chat(
      chat,
      new AbortController().signal,
    );
    await expect(call).rejects.toMatchObject({ kind: "rate_limited", retryAfterMs: 30_000, retriesExhausted: false });
    expect(emulator.records).toHaveLength(1);
  }, 5_000);

  it("retries a stream whose first request failed before any chunk", async () => {
    emulator.setFault(firstRequests(1, { status: 500 }, (request) => request.stream));
    const ctx = context();
    const { text, error } = await collect(
      withRetry(openai, retryConfig(), ampleBudget()).streamChat(chat, new AbortController().signal, ctx),
    );
    expect(error).toBeUndefined();
    expect(text).toBe(answer);
    expect(emulator.records.map((r) => r.status)).toEqual([500, 200]);
  });

  it("does not retry a stream cut after its first chunks reached the consumer", async () => {
    emulator.setFault({ dropAfterChunks: 2 });
    const ctx = context();
    const { text, error } = await collect(
      withRetry(openai, retryConfig(), ampleBudget()).streamChat(chat, new AbortController().signal, ctx),
    );
    expect(text).toBe("Echo: one");
    expect(error).toMatchObject({ kind: "unavailable", retriesExhausted: false });
    expect(emulator.records).toHaveLength(1);
  });

  it("ends a backoff sleep at once with cancelled when the caller cancels", async () => {
    emulator.setFault({ status: 503, retryAfterMs: 60_000 });
    const controller = new AbortController();
    const ctx = context();
    const call = withRetry(openai, retryConfig({ maxRetryAfterMs: 120_000 }), ampleBudget()).chat(
      chat,
      controller.signal,
      ctx,
    );
    await waitFor(() => ctx.trace.events.length === 1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: "cancelled" });
    expect(emulator.records).toHaveLength(1);
  }, 5_000);

  describe("under a total outage (every request answered 503)", () => {
    async function outage(calls: number, budget: RetryBudget): Promise<number> {
      emulator.setFault({ status: 503 });
      const policy = withRetry(openai, retryConfig({ maxAttempts: 3 }), budget);
      for (let done = 0; done < calls; done += 50) {
        const batch = Array.from({ length: Math.min(50, calls - done) }, () =>
          policy.chat(chat, new AbortController().signal).catch(() => undefined),
        );
        await Promise.all(batch);
      }
      return emulator.records.length;
    }

    it("adds at most ratio (10%) extra upstream requests, plus the floor", async () => {
      const started = Date.now();
      const upstream = await outage(1_000, new RetryBudget({ ratio: 0.1, minPerSecond: 1 }));
      const floorAllowance = 1 + Math.ceil((Date.now() - started) / 1_000);
      expect(upstream).toBeGreaterThanOrEqual(1_100);
      expect(upstream).toBeLessThanOrEqual(1_000 * 1.1 + floorAllowance);
    }, 60_000);

    it("would triple the load without a budget", async () => {
      expect(await outage(200, ampleBudget())).toBe(600);
    });
  });
});
