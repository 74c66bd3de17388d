// Kills mutants that survived `npm run test:mutation` in src/pipeline/resilience/retry-policy.ts and retry-budget.ts
// (see docs/testing.md, "Mutation testing").
import { describe, expect, it } from "vitest";
import { retrySchema, type RetryConfig } from "../../../src/config/pipeline-schema.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { scriptedProvider } from "./retry-fake-provider.js";

const chat = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
const never = new AbortController().signal;
const retryConfig = (overrides: Partial<RetryConfig> = {}): RetryConfig =>
  retrySchema.parse({ baseDelayMs: 1, maxDelayMs: 2, ...overrides });
const ampleBudget = (): RetryBudget => new RetryBudget({ ratio: 1, minPerSecond: 1_000_000 });
const context = (deadline?: number): CallContext => ({ deadline, clientId: "", trace: new CallTrace() });

async function errorOf(call: Promise<unknown>): Promise<ProviderError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("RetryBudget.available", () => {
  it("counts what is left of the per-second floor after a retry took from it", () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 2 }, { now: () => 1_000 });
    expect(budget.available).toBe(2);
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.available).toBe(1);
  });
});

describe("withRetry limits", () => {
  it("waits for a retry-after exactly at maxRetryAfterMs", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 5 }, {}]);
    const result = await withRetry(inner, retryConfig({ maxRetryAfterMs: 5 }), ampleBudget()).chat(chat, never);
    expect(result.text).toBe("ok");
    expect(inner.attempts).toBe(2);
  });

  it("does not retry when the wait would end exactly at the deadline", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 50 }, {}]);
    const error = await errorOf(
      withRetry(inner, retryConfig(), ampleBudget(), { now: () => 1_000 }).chat(chat, never, context(1_050)),
    );
    expect(error.kind).toBe("rate_limited");
    expect(inner.attempts).toBe(1);
  });

  it("says a call cancelled during the wait was cancelled while waiting to retry", async () => {
    const inner = scriptedProvider([{ fail: "rate_limited", retryAfterMs: 2_000 }, {}]);
    const cancel = new AbortController();
    const call = withRetry(inner, retryConfig(), ampleBudget()).chat(chat, cancel.signal);
    setTimeout(() => cancel.abort(), 20);
    const error = await errorOf(call);
    expect(error.kind).toBe("cancelled");
    expect(error.message).toBe("fake: the request was cancelled while waiting to retry");
  });

  it("gives a stream maxAttempts attempts, then fails with retries exhausted", async () => {
    const inner = scriptedProvider([{ fail: "unavailable" }]);
    let failure: unknown;
    try {
      for await (const _part of withRetry(inner, retryConfig({ maxAttempts: 3 }), ampleBudget()).streamChat(
        chat,
        never,
      ) as AsyncIterable<StreamPart>) {
        // no part: every attempt fails before its first
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ProviderError);
    expect((failure as ProviderError).retriesExhausted).toBe(true);
    expect(inner.attempts).toBe(3);
  });
});
