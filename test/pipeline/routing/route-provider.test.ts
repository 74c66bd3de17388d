import { describe, expect, it } from "vitest";
import { fallbackTrigger } from "../../../src/pipeline/routing/route-fallback.js";
import { detachedContext, type CallContext } from "../../../src/providers/call-context.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError } from "./route-fake-provider.js";
import { manualHealth, routeMember, routeOver } from "./route-members.js";

const request = { model: "test-model", messages: [{ role: "user" as const, content: "hi" }] };
const live = (): AbortSignal => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(error)}`);
  return error;
}

describe("RouteProvider fallback", () => {
  it("tries the next target on a retryable failure, recording the fallback and who served", async () => {
    const first = RouteFakeProvider.failing("first", "unavailable");
    const second = RouteFakeProvider.answering("second", "hello", "anthropic");
    const context = detachedContext();
    const result = await routeOver([routeMember(first), routeMember(second, { model: "claude-x" })]).chat(
      request,
      live(),
      context,
    );
    expect(result.text).toBe("hello");
    expect(first.calls.map((call) => call.model)).toEqual(["first-model"]);
    expect(second.calls.map((call) => call.model)).toEqual(["claude-x"]);
    expect(second.calls[0]?.context).toBe(context);
    expect(context.trace.events).toEqual([
      {
        type: "fallback",
        fromProvider: "first",
        fromModel: "first-model",
        toProvider: "second",
        toModel: "claude-x",
        reason: "unavailable",
      },
    ]);
    expect(context.trace.servedBy).toEqual({ provider: "second", providerType: "anthropic", model: "claude-x" });
  });

  it.each([
    "context_length",
    "content_filter",
    "auth",
    "quota_exceeded",
    "not_found",
    "unsupported",
    "queue_full",
    "rate_limited",
    "timeout",
  ] as const)("falls back on %s", async (kind) => {
    const second = RouteFakeProvider.answering("second");
    await routeOver([routeMember(RouteFakeProvider.failing("first", kind)), routeMember(second)]).complete(
      { model: "x", prompt: "p" },
      live(),
    );
    expect(second.calls).toHaveLength(1);
  });

  it.each(["invalid_request", "cancelled"] as const)("never falls back on the caller's %s", async (kind) => {
    const first = RouteFakeProvider.failing("first", kind);
    const second = RouteFakeProvider.answering("second");
    const context = detachedContext();
    expect(
      await failure(routeOver([routeMember(first), routeMember(second)]).chat(request, live(), context)),
    ).toMatchObject({ kind, provider: "first" });
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(0);
    expect(context.trace.events).toEqual([]);
  });

  it("falls back only on the configured triggers", async () => {
    const second = RouteFakeProvider.answering("second");
    const route = routeOver([routeMember(RouteFakeProvider.failing("first", "context_length")), routeMember(second)], {
      fallbackOn: ["retryable"],
    });
    expect(await failure(route.chat(request, live()))).toMatchObject({ kind: "context_length" });
    expect(second.calls).toHaveLength(0);

    const exhausted = new RouteFakeProvider("first", () => ({
      error: routeError("first", "unavailable", { retriesExhausted: true }),
    }));
    const gaveUpEarly = new RouteFakeProvider("early", () => ({ error: routeError("early", "rate_limited") }));
    const onlyExhausted = routeOver([routeMember(gaveUpEarly), routeMember(exhausted), routeMember(second)], {
      fallbackOn: ["exhausted"],
    });
    expect(await failure(onlyExhausted.chat(request, live()))).toMatchObject({ kind: "rate_limited" });
    const afterExhausted = routeOver([routeMember(exhausted), routeMember(second)], { fallbackOn: ["exhausted"] });
    expect((await afterExhausted.chat(request, live())).text).toBe("answer from second");
    const retryableCoversExhausted = routeOver([routeMember(exhausted), routeMember(second)], {
      fallbackOn: ["retryable"],
    });
    expect((await retryableCoversExhausted.chat(request, live())).text).toBe("answer from second");
  });

  it("maps errors to their triggers", () => {
    expect(fallbackTrigger(routeError("p", "circuit_open"))).toBe("circuit_open");
    expect(fallbackTrigger(routeError("p", "timeout", { retriesExhausted: true }))).toBe("exhausted");
    expect(fallbackTrigger(routeError("p", "overloaded"))).toBe("retryable");
    expect(fallbackTrigger(routeError("p", "auth"))).toBe("retryable");
    expect(fallbackTrigger(routeError("p", "invalid_request"))).toBeUndefined();
    expect(fallbackTrigger(routeError("p", "cancelled"))).toBeUndefined();
  });

  it("does not fall back once the deadline has passed", async () => {
    const second = RouteFakeProvider.answering("second");
    const context: CallContext = { ...detachedContext(), deadline: Date.now() - 1 };
    const route = routeOver([routeMember(RouteFakeProvider.failing("first", "unavailable")), routeMember(second)]);
    expect(await failure(route.chat(request, live(), context))).toMatchObject({
      kind: "unavailable",
      provider: "first",
    });
    expect(second.calls).toHaveLength(0);
  });

  it("throws the last real failure when every target fails, summarizing all of them", async () => {
    const open = routeMember(RouteFakeProvider.answering("broken"), { breaker: { failureThreshold: 1 } });
    open.breaker?.trip();
    const route = routeOver([
      routeMember(
        new RouteFakeProvider("limited", () => ({
          error: routeError("limited", "rate_limited", { retryAfterMs: 500 }),
        })),
      ),
      routeMember(RouteFakeProvider.failing("down", "unavailable")),
      open,
    ]);
    const error = await failure(route.embed({ model: "x", inputs: ["a"] }, live()));
    expect(error).toMatchObject({ kind: "unavailable", provider: "down" });
    expect(error.message).toBe(
      'model "test-model": 3 targets failed (limited/limited-model: rate_limited, down/down-model: unavailable, broken/broken-model: circuit_open); down: unavailable',
    );
  });

  it("throws the circuit that reopens first when every circuit is open", async () => {
    const members = [
      routeMember(RouteFakeProvider.answering("a"), { breaker: { openMs: 5_000 } }),
      routeMember(RouteFakeProvider.answering("b"), { breaker: { openMs: 1_000 } }),
    ];
    for (const member of members) member.breaker?.trip();
    const error = await failure(routeOver(members).chat(request, live()));
    expect(error).toMatchObject({ kind: "circuit_open", provider: "b", retryable: false });
    expect(error.retryAfterMs).toBeLessThanOrEqual(1_000);
  });
});

describe("RouteProvider health", () => {
  it("skips a target whose circuit is open without calling it", async () => {
    const first = RouteFakeProvider.answering("first");
    const member = routeMember(first);
    member.breaker?.trip();
    const context = detachedContext();
    const result = await routeOver([member, routeMember(RouteFakeProvider.answering("second"))]).chat(
      request,
      live(),
      context,
    );
    expect(result.text).toBe("answer from second");
    expect(first.calls).toHaveLength(0);
    expect(context.trace.servedBy?.provider).toBe("second");
  });

  it("tries an unhealthy target last, and still tries it when the healthy ones fail", async () => {
    const health = manualHealth(false);
    const sick = RouteFakeProvider.answering("sick");
    const route = routeOver([routeMember(sick, { health }), routeMember(RouteFakeProvider.answering("well"))]);
    expect((await route.chat(request, live())).text).toBe("answer from well");
    expect(sick.calls).toHaveLength(0);
    expect(route.plan().map((member) => member.provider.name)).toEqual(["well", "sick"]);
    health.healthy = true;
    expect(route.plan().map((member) => member.provider.name)).toEqual(["sick", "well"]);

    const lastResort = routeOver([
      routeMember(sick, { health: manualHealth(false) }),
      routeMember(RouteFakeProvider.failing("well", "overloaded")),
    ]);
    expect((await lastResort.chat(request, live())).text).toBe("answer from sick");
  });

  it("opens a failing target's circuit, then skips it until a half-open probe succeeds", async () => {
    let healthy = false;
    const flaky = new RouteFakeProvider("flaky", () =>
      healthy ? { text: "back" } : { error: routeError("flaky", "overloaded") },
    );
    const member = routeMember(flaky, { breaker: { failureThreshold: 2, openMs: 40 } });
    const route = routeOver([member, routeMember(RouteFakeProvider.answering("backup"))]);
    for (let i = 0; i < 4; i++) expect((await route.chat(request, live())).text).toBe("answer from backup");
    expect(flaky.calls).toHaveLength(2);
    expect(member.breaker?.state).toBe("open");
    await new Promise((resolve) => setTimeout(resolve, 60));
    healthy = true;
    expect((await route.chat(request, live())).text).toBe("back");
    expect(member.breaker?.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });

  it("balances the first target and keeps the rest as fallbacks", async () => {
    const a = RouteFakeProvider.answering("a");
    const b = RouteFakeProvider.answering("b");
    const route = routeOver([routeMember(a), routeMember(b)], { strategy: "round-robin" });
    for (let i = 0; i < 10; i++) await route.chat(request, live());
    expect([a.calls.length, b.calls.length]).toEqual([5, 5]);
  });

  it("feeds each target's stats", async () => {
    const member = routeMember(new RouteFakeProvider("slowish", () => ({ text: "ok", delayMs: 15 })));
    const running = routeOver([member]).chat(request, live());
    expect(member.stats.inFlight).toBe(1);
    await running;
    expect(member.stats.snapshot().inFlight).toBe(0);
    expect(member.stats.latencyEwmaMs).toBeGreaterThan(0);
  });
});
