import { describe, expect, it } from "vitest";
import type { FallbackTrigger } from "../../../src/config/pipeline-schema.js";
import { detachedContext } from "../../../src/providers/call-context.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError } from "./route-fake-provider.js";
import { composedMember, routeOver } from "./route-members.js";

// Health is neutral here: no health checks, breakers that cannot open within a test, the ordered strategy.
// So the first target stays first whatever happens, and only `fallbackOn` decides whether the second is called.

const request = { model: "test-model", messages: [{ role: "user" as const, content: "hi" }] };
const live = (): AbortSignal => new AbortController().signal;
const maxAttempts = 3;
const retry = { maxAttempts, baseDelayMs: 1, maxDelayMs: 2, budget: { ratio: 1, minPerSecond: 1_000 } };
const breaker = { failureThreshold: 1_000, minRequests: 1_000 };

/** Every trigger but the two an exhausted error falls under. */
const withoutExhausted: FallbackTrigger[] = ["circuit_open", "context_length", "content_filter"];

/** A route of a first target failing `unavailable` on every attempt (so its retries run out) and a healthy second. */
function failingThenHealthy(fallbackOn: FallbackTrigger[]) {
  const first = new RouteFakeProvider("first", () => ({ error: routeError("first", "unavailable") }));
  const second = RouteFakeProvider.answering("second", "from second");
  const route = routeOver([composedMember(first, { retry, breaker }), composedMember(second, { retry, breaker })], {
    strategy: "ordered",
    fallbackOn,
  });
  return { first, second, route };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

async function streamFailure(parts: AsyncIterable<StreamPart>): Promise<{ text: string; error: ProviderError }> {
  let text = "";
  try {
    for await (const part of parts) if (part.type === "delta") text += part.text;
  } catch (error) {
    if (error instanceof ProviderError) return { text, error };
    throw error;
  }
  throw new Error(`expected the stream to fail, it answered ${JSON.stringify(text)}`);
}

async function streamText(parts: AsyncIterable<StreamPart>): Promise<string> {
  let text = "";
  for await (const part of parts) if (part.type === "delta") text += part.text;
  return text;
}

describe("route fallback after a target's retries are exhausted, with neutral health", () => {
  it.each<[string, FallbackTrigger[]]>([
    ["no trigger", []],
    ["every trigger but exhausted and retryable", withoutExhausted],
  ])("does not call the second target when fallbackOn has %s (unary)", async (_label, fallbackOn) => {
    const { first, second, route } = failingThenHealthy(fallbackOn);
    const context = detachedContext();
    const error = await failure(route.chat(request, live(), context));
    expect(error).toMatchObject({ kind: "unavailable", provider: "first", retriesExhausted: true });
    expect(first.calls).toHaveLength(maxAttempts);
    expect(second.calls).toHaveLength(0);
    expect(context.trace.events.filter((event) => event.type === "fallback")).toEqual([]);
  });

  it("does not call the second target when fallbackOn lacks exhausted and retryable (stream)", async () => {
    const { first, second, route } = failingThenHealthy(withoutExhausted);
    const { text, error } = await streamFailure(route.streamChat(request, live(), detachedContext()));
    expect(text).toBe("");
    expect(error).toMatchObject({ kind: "unavailable", provider: "first", retriesExhausted: true });
    expect(first.calls).toHaveLength(maxAttempts);
    expect(second.calls).toHaveLength(0);
  });

  it.each<FallbackTrigger>(["exhausted", "retryable"])(
    "falls back to the second target when fallbackOn is [%s] (unary)",
    async (trigger) => {
      const { first, second, route } = failingThenHealthy([trigger]);
      const context = detachedContext();
      const result = await route.chat(request, live(), context);
      expect(result.text).toBe("from second");
      expect(first.calls).toHaveLength(maxAttempts);
      expect(second.calls).toHaveLength(1);
      expect(context.trace.events.filter((event) => event.type === "fallback")).toEqual([
        {
          type: "fallback",
          fromProvider: "first",
          fromModel: "first-model",
          toProvider: "second",
          toModel: "second-model",
          reason: "unavailable",
        },
      ]);
    },
  );

  it("falls back to the second target when fallbackOn is [exhausted] (stream)", async () => {
    const { first, second, route } = failingThenHealthy(["exhausted"]);
    expect(await streamText(route.streamChat(request, live(), detachedContext()))).toBe("from second");
    expect(first.calls).toHaveLength(maxAttempts);
    expect(second.calls).toHaveLength(1);
  });
});
