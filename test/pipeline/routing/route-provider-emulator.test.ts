import { describe, expect, it } from "vitest";
import type { Fault } from "../../../src/emulator/fault.js";
import { detachedContext } from "../../../src/providers/call-context.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { useRouteEmulator } from "./route-emulator.js";
import { composedMember, routeOver } from "./route-members.js";

const harness = useRouteEmulator();
const request = { model: "chat-model", messages: [{ role: "user" as const, content: "three targets" }] };
const live = (): AbortSignal => new AbortController().signal;

/** Faults per upstream model; other models answer normally. */
function faultsByModel(faults: Record<string, Fault>): void {
  harness.emulator().setFault((emulated) => faults[emulated.model]);
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

/** The 429-then-hang-then-healthy chain of the issue, through real adapters, retry, breaker and timeouts. */
function threeTargetChain() {
  faultsByModel({ "gpt-limited": { status: 429, retryAfterMs: 20 }, "gpt-hung": { hang: true } });
  return routeOver([
    composedMember(harness.adapter("openai", "openai-main"), {
      model: "gpt-limited",
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
    }),
    composedMember(harness.adapter("azure", "azure-east"), {
      model: "gpt-hung",
      timeouts: { firstTokenMs: 150 },
      retry: { maxAttempts: 1 },
    }),
    composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok", timeouts: { firstTokenMs: 5_000 } }),
  ]);
}

function routingEvents(context: ReturnType<typeof detachedContext>) {
  return context.trace.events.filter((event) => event.type !== "attempt");
}

describe("RouteProvider against the emulator", () => {
  it("completes on the third target when the first answers 429 and the second hangs", async () => {
    const context = detachedContext();
    const result = await threeTargetChain().chat(request, live(), context);
    expect(result.text).toBe("Echo: three targets");
    expect(harness.recordsOf("gpt-limited").map((record) => record.status)).toEqual([429, 429]);
    expect(harness.recordsOf("gpt-hung")).toHaveLength(1);
    expect(harness.recordsOf("claude-ok").map((record) => record.status)).toEqual([200]);
    expect(routingEvents(context)).toEqual([
      expect.objectContaining({ type: "retry", provider: "openai-main", attempt: 1, reason: "rate_limited" }),
      {
        type: "fallback",
        fromProvider: "openai-main",
        fromModel: "gpt-limited",
        toProvider: "azure-east",
        toModel: "gpt-hung",
        reason: "rate_limited",
      },
      {
        type: "fallback",
        fromProvider: "azure-east",
        fromModel: "gpt-hung",
        toProvider: "claude",
        toModel: "claude-ok",
        reason: "timeout",
      },
    ]);
    expect(context.trace.servedBy).toEqual({ provider: "claude", providerType: "anthropic", model: "claude-ok" });
    const hung = harness.recordsOf("gpt-hung")[0];
    await hung?.done;
    expect(hung?.aborted).toBe(true);
  });

  it("streams the same chain from the third target", async () => {
    const context = detachedContext();
    const parts: StreamPart[] = [];
    for await (const part of threeTargetChain().streamChat(request, live(), context)) parts.push(part);
    expect(parts.map((part) => (part.type === "delta" ? part.text : "|finish"))).toEqual([
      "Echo:",
      " three",
      " targets",
      "|finish",
    ]);
    expect(
      routingEvents(context)
        .filter((event) => event.type === "fallback")
        .map((event) => event.type === "fallback" && event.reason),
    ).toEqual(["rate_limited", "timeout"]);
    expect(context.trace.servedBy?.provider).toBe("claude");
  });

  it("falls back on context_length and on content_filter", async () => {
    faultsByModel({
      "gpt-small": { status: 400, errorCode: "context_length_exceeded" },
      "gpt-filtered": { status: 400, errorCode: "content_filter" },
    });
    const route = routeOver([
      composedMember(harness.adapter("openai", "openai-small"), { model: "gpt-small" }),
      composedMember(harness.adapter("azure", "azure-filtered"), { model: "gpt-filtered" }),
      composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok" }),
    ]);
    const context = detachedContext();
    expect((await route.chat(request, live(), context)).text).toBe("Echo: three targets");
    expect(routingEvents(context).map((event) => event.type === "fallback" && event.reason)).toEqual([
      "context_length",
      "content_filter",
    ]);
  });

  it("does not fall back on the caller's invalid request: only one target is called", async () => {
    faultsByModel({ "gpt-a": { status: 400 } });
    const route = routeOver([
      composedMember(harness.adapter("openai", "openai-a"), { model: "gpt-a", retry: { maxAttempts: 3 } }),
      composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok" }),
    ]);
    expect(await failure(route.chat(request, live()))).toMatchObject({
      kind: "invalid_request",
      provider: "openai-a",
      status: 400,
    });
    expect(harness.emulator().records).toHaveLength(1);
  });

  it("falls back when a provider rejects the gateway's own key", async () => {
    faultsByModel({ "gpt-revoked": { status: 401 } });
    const route = routeOver([
      composedMember(harness.adapter("openai", "openai-revoked"), { model: "gpt-revoked" }),
      composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok" }),
    ]);
    const context = detachedContext();
    expect((await route.chat(request, live(), context)).text).toBe("Echo: three targets");
    expect(routingEvents(context)).toEqual([expect.objectContaining({ type: "fallback", reason: "auth" })]);
  });

  it("opens the breaker after repeated failures, fails fast, and closes it with a half-open probe", async () => {
    let down = true;
    harness.emulator().setFault((emulated) => (down && emulated.model === "gpt-down" ? { status: 500 } : undefined));
    // The breaker's clock moves only when the test says so: a busy machine cannot reach openMs early.
    let now = 1_000_000;
    const flaky = composedMember(harness.adapter("openai", "openai-flaky"), {
      model: "gpt-down",
      breaker: { failureThreshold: 2, openMs: 60 },
      now: () => now,
    });
    const route = routeOver([flaky, composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok" })]);
    for (let i = 0; i < 4; i++) expect((await route.chat(request, live())).text).toBe("Echo: three targets");
    expect(harness.recordsOf("gpt-down")).toHaveLength(2);
    expect(flaky.breaker?.snapshot()).toEqual({ state: "open", consecutiveFailures: 2, errorRate: 1 });

    const context = detachedContext();
    await route.chat(request, live(), context);
    expect(routingEvents(context)).toEqual([]);
    expect(context.trace.servedBy?.provider).toBe("claude");

    now += 80;
    down = false;
    const probed = detachedContext();
    await route.chat(request, live(), probed);
    expect(probed.trace.servedBy?.provider).toBe("openai-flaky");
    expect(harness.recordsOf("gpt-down")).toHaveLength(3);
    expect(flaky.breaker?.snapshot().state).toBe("closed");
  });
});
