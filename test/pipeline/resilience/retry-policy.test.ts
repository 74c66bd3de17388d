import { describe, expect, it } from "vitest";
import { retrySchema, type RetryConfig } from "../../../src/config/pipeline-schema.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError, type ProviderErrorKind } from "../../../src/providers/provider-error.js";
import { scriptedProvider } from "./retry-fake-provider.js";

const chat = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
const never = new AbortController().signal;

function retryConfig(overrides: Partial<RetryConfig> = {}): RetryConfig {
  return retrySchema.parse({ baseDelayMs: 1, maxDelayMs: 2, ...overrides });
}

/** A budget that never refuses, so that tests of other rules are not throttled. */
function ampleBudget(): RetryBudget {
  return new RetryBudget({ ratio: 1, minPerSecond: 1_000_000 });
}

function context(deadline?: number): CallContext {
  return { deadline, clientId: "", trace: new CallTrace() };
}

async function collect(parts: AsyncIterable<StreamPart>): Promise<{ deltas: string[]; error: unknown }> {
  const deltas: string[] = [];
  try {
    for await (const part of parts) if (part.type === "delta") deltas.push(part.text);
    return { deltas, error: undefined };
  } catch (error) {
    return { deltas, error };
  }
}

describe("withRetry", () => {
  it("retries retryable failures and records every attempt and retry in the trace", async () => {
    const inner = scriptedProvider([{ fail: "unavailable" }, { fail: "rate_limited" }, {}]);
    const ctx = context();
    const result = await withRetry(inner, retryConfig(), ampleBudget()).chat(chat, never, ctx);
    expect(result.text).toBe("ok");
    expect(inner.attempts).toBe(3);
    expect(ctx.trace.events).toMatchObject([
      { type: "retry", provider: "fake", model: "m", attempt: 1, reason: "unavailable" },
      { type: "retry", provider: "fake", model: "m", attempt: 2, reason: "rate_limited" },
    ]);
  });

  it.each<ProviderErrorKind>(["overloaded", "timeout"])("retries %s", async (kind) => {
    const inner = scriptedProvider([{ fail: kind }, {}]);
    await withRetry(inner, retryConfig(), ampleBudget()).complete({ model: "m", prompt: "p" }, never);
    expect(inner.attempts).toBe(2);
  });

  it.each<ProviderErrorKind>([
    "invalid_request",
    "auth",
    "context_length",
    "content_filter",
    "quota_exceeded",
    "circuit_open",
    "queue_full",
    "cancelled",
    "not_found",
    "internal",
  ])("never retries %s", async (kind) => {
    const inner = scriptedProvider([{ fail: kind }, {}]);
    const error: unknown = await withRetry(inner, retryConfig(), ampleBudget())
      .chat(chat, never)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind, retriesExhausted: false });
    expect(inner.attempts).toBe(1);
  });

  it("throws the last error with retriesExhausted after maxAttempts", async () => {
    const inner = scriptedProvider([{ fail: "unavailable" }, { fail: "unavailable" }, { fail: "overloaded" }, {}]);
    const ctx = context();
    const error: unknown = await withRetry(inner, retryConfig({ maxAttempts: 3 }), ampleBudget())
      .embed({ model: "e", inputs: ["a"] }, never, ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "overloaded", retriesExhausted: true, retryable: true });
    expect(inner.attempts).toBe(3);
    expect(ctx.trace.events).toHaveLength(2);
  });

  it("waits at least the provider's retry-after, even above the backoff window", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 40 }, {}]);
    const ctx = context();
    await withRetry(inner, retryConfig(), ampleBudget(), { random: () => 0.999 }).chat(chat, never, ctx);
    expect(ctx.trace.events).toMatchObject([{ type: "retry", delayMs: 40 }]);
  });

  it("keeps the jittered backoff when it is longer than retry-after", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 1 }, {}]);
    const ctx = context();
    const config = retryConfig({ baseDelayMs: 50, maxDelayMs: 50 });
    await withRetry(inner, config, ampleBudget(), { random: () => 0.5 }).chat(chat, never, ctx);
    expect(ctx.trace.events).toMatchObject([{ type: "retry", delayMs: 25 }]);
  });

  it("does not wait for a retry-after above maxRetryAfterMs: the error goes out at once, not exhausted", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 60_000 }, {}]);
    const ctx = context();
    const error: unknown = await withRetry(inner, retryConfig({ maxRetryAfterMs: 1_000 }), ampleBudget())
      .chat(chat, never, ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "rate_limited", retryAfterMs: 60_000, retriesExhausted: false });
    expect(inner.attempts).toBe(1);
    expect(ctx.trace.events).toEqual([]);
  });

  it("does not retry when the next attempt could not start before the deadline", async () => {
    const now = 1_000_000;
    const inner = scriptedProvider([{ fail: "unavailable", retryAfterMs: 500 }, {}]);
    const ctx = context(now + 400);
    const error: unknown = await withRetry(inner, retryConfig(), ampleBudget(), { now: () => now })
      .chat(chat, never, ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "unavailable", retriesExhausted: false });
    expect(inner.attempts).toBe(1);
    expect(ctx.trace.events).toEqual([]);
  });

  it("retries when the deadline leaves time for the wait", async () => {
    const inner = scriptedProvider([{ fail: "unavailable", retryAfterMs: 5 }, {}]);
    const ctx = context(Date.now() + 10_000);
    await withRetry(inner, retryConfig(), ampleBudget()).chat(chat, never, ctx);
    expect(inner.attempts).toBe(2);
  });

  it("fails at once, not exhausted, when the budget is spent", async () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0 });
    const inner = scriptedProvider([{ fail: "unavailable" }, {}]);
    const ctx = context();
    const error: unknown = await withRetry(inner, retryConfig(), budget)
      .chat(chat, never, ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "unavailable", retriesExhausted: false });
    expect(inner.attempts).toBe(1);
  });

  it("deposits one request's share per call, not per attempt", async () => {
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0 });
    const inner = scriptedProvider([{ fail: "unavailable" }, { fail: "unavailable" }, {}]);
    const policy = withRetry(inner, retryConfig({ maxAttempts: 5 }), budget);
    const first: unknown = await policy.chat(chat, never).catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: "unavailable", retriesExhausted: false });
    expect(inner.attempts).toBe(1);
    await policy.chat(chat, never);
    expect(inner.attempts).toBe(3);
  });

  it("ends the backoff sleep at once with cancelled when the signal aborts", async () => {
    const inner = scriptedProvider([{ fail: "unavailable", retryAfterMs: 60_000 }, {}]);
    const controller = new AbortController();
    const ctx = context();
    const call = withRetry(inner, retryConfig({ maxRetryAfterMs: 120_000 }), ampleBudget()).chat(
      chat,
      controller.signal,
      ctx,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ctx.trace.events).toHaveLength(1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ kind: "cancelled", provider: "fake" });
    expect(inner.attempts).toBe(1);
  }, 5_000);

  it("passes a non-ProviderError through untouched", async () => {
    const failure = new TypeError("bug");
    const inner = { ...scriptedProvider([{}]), chat: () => Promise.reject(failure) };
    await expect(withRetry(inner, retryConfig(), ampleBudget()).chat(chat, never)).rejects.toBe(failure);
  });

  it("retries a stream that failed before its first part, yielding nothing of the failed attempt", async () => {
    const inner = scriptedProvider([{ fail: "unavailable" }, { deltas: ["a", "b"] }]);
    const ctx = context();
    const { deltas, error } = await collect(
      withRetry(inner, retryConfig(), ampleBudget()).streamChat(chat, never, ctx),
    );
    expect(error).toBeUndefined();
    expect(deltas).toEqual(["a", "b"]);
  });

  it("does not retry a stream once a part reached the consumer", async () => {
    const inner = scriptedProvider([{ deltas: ["a"], failAfterDeltas: "unavailable" }, { deltas: ["x"] }]);
    const ctx = context();
    const { deltas, error } = await collect(
      withRetry(inner, retryConfig(), ampleBudget()).streamComplete({ model: "m", prompt: "p" }, never, ctx),
    );
    expect(deltas).toEqual(["a"]);
    expect(error).toMatchObject({ kind: "unavailable", retriesExhausted: false });
    expect(inner.attempts).toBe(1);
    expect(ctx.trace.events).toEqual([]);
  });

  it("works without a context", async () => {
    const inner = scriptedProvider([{ fail: "timeout" }, {}]);
    const { error } = await collect(withRetry(inner, retryConfig(), ampleBudget()).streamChat(chat, never));
    expect(error).toBeUndefined();
    expect(inner.attempts).toBe(2);
  });
});
