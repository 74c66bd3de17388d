import { describe, expect, it } from "vitest";
import { withAttemptRecording } from "../../../src/pipeline/observe/attempt-recorder.js";
import { RetryBudget } from "../../../src/pipeline/resilience/retry-budget.js";
import { withRetry } from "../../../src/pipeline/resilience/retry-policy.js";
import { CallTrace, detachedContext } from "../../../src/providers/call-context.js";
import { RouteFakeProvider, routeError } from "../routing/route-fake-provider.js";

const signal = new AbortController().signal;
const chat = { model: "m", messages: [{ role: "user" as const, content: "hi" }], maxTokens: 7 };

describe("withAttemptRecording", () => {
  it("records a successful call with timing, usage and finish reason", async () => {
    const context = detachedContext();
    await withAttemptRecording(RouteFakeProvider.answering("p", "one two")).chat(chat, signal, context);
    const [record] = context.trace.attemptRecords();
    expect(record).toMatchObject({
      provider: "p",
      providerType: "openai",
      model: "m",
      operation: "chat",
      stream: false,
      maxTokens: 7,
      finishReason: "stop",
    });
    expect(record?.usage?.completionTokens).toBeGreaterThan(0);
    expect(record?.endedAt).toBeGreaterThanOrEqual(record?.startedAt ?? Infinity);
    expect(context.trace.attempts).toBe(1);
  });

  it("records each attempt a retry makes, failures with their error kind", async () => {
    const inner = new RouteFakeProvider("p", (i) =>
      i < 2 ? { error: routeError("p", "unavailable") } : { text: "ok" },
    );
    const context = detachedContext();
    const config = {
      maxAttempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 2,
      maxRetryAfterMs: 1000,
      budget: { ratio: 1, minPerSecond: 100 },
    };
    await withRetry(withAttemptRecording(inner), config, new RetryBudget(config.budget)).chat(chat, signal, context);
    expect(context.trace.attempts).toBe(3);
    expect(context.trace.attemptRecords().map((r) => r.error?.kind)).toEqual(["unavailable", "unavailable", undefined]);
  });

  it("records a stream's chunks and time to first chunk, and a consumer that stops early as cancelled", async () => {
    const context = { deadline: undefined, clientId: "", trace: new CallTrace() };
    const recorder = withAttemptRecording(RouteFakeProvider.answering("p", "a b c d"));
    for await (const _part of recorder.streamChat(chat, signal, context)) {
      // read it all
    }
    for await (const part of recorder.streamChat(chat, signal, context)) {
      if (part.type === "delta") break;
    }
    const [whole, stopped] = context.trace.attemptRecords();
    expect(whole).toMatchObject({ stream: true, chunks: 4, finishReason: "stop" });
    expect(whole?.firstChunkAt).toBeGreaterThanOrEqual(whole?.startedAt ?? Infinity);
    expect(stopped).toMatchObject({ chunks: 1, error: { kind: "cancelled" } });
  });

  it("passes calls without a context straight through", async () => {
    const result = await withAttemptRecording(RouteFakeProvider.answering("p", "x")).chat(chat, signal);
    expect(result.text).toBe("x");
  });
});
