import { describe, expect, it } from "vitest";
import { circuitBreakerSchema } from "../../../src/config/pipeline-schema.js";
import {
  CircuitBreaker,
  outcomeOfError,
  withCircuitBreaker,
} from "../../../src/pipeline/resilience/circuit-breaker.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError, type FakeOutcome } from "../routing/route-fake-provider.js";

/** A clock tests move by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => (time += ms) };
}

function breaker(overrides: Partial<Parameters<typeof circuitBreakerSchema.parse>[0]> = {}) {
  const clock = manualClock();
  const config = circuitBreakerSchema.parse({ failureThreshold: 3, openMs: 1_000, minRequests: 100, ...overrides });
  return { clock, breaker: new CircuitBreaker({ provider: "p", model: "m" }, config, clock.now) };
}

const request = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
const live = (): AbortSignal => new AbortController().signal;

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => "ok",
    (error: unknown) => error,
  );
}

describe("CircuitBreaker", () => {
  it("opens after failureThreshold consecutive failures and then fails fast without calling", async () => {
    const { breaker: cb } = breaker();
    const inner = RouteFakeProvider.failing("p", "unavailable");
    const guarded = withCircuitBreaker(inner, cb);
    for (let i = 0; i < 3; i++)
      expect(await settle(guarded.chat(request, live()))).toMatchObject({ kind: "unavailable" });
    expect(cb.snapshot()).toEqual({ state: "open", consecutiveFailures: 3, errorRate: 1 });

    const refused = await settle(guarded.chat(request, live()));
    expect(refused).toBeInstanceOf(ProviderError);
    // The configured provider name, as ErrorDetail.provider promises; the message names the model too.
    expect(refused).toMatchObject({ kind: "circuit_open", retryable: false, provider: "p", retryAfterMs: 1_000 });
    expect((refused as ProviderError).message).toMatch(/^p\/m: circuit open/);
    expect(inner.calls).toHaveLength(3);
  });

  it("resets the consecutive count on a success", async () => {
    const { breaker: cb } = breaker();
    const outcomes: FakeOutcome[] = [
      { error: routeError("p", "timeout") },
      { error: routeError("p", "timeout") },
      { text: "ok" },
      { error: routeError("p", "timeout") },
    ];
    const guarded = withCircuitBreaker(new RouteFakeProvider("p", (call) => outcomes[call] ?? { text: "ok" }), cb);
    for (let i = 0; i < outcomes.length; i++) await settle(guarded.chat(request, live()));
    expect(cb.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 1 });
  });

  it("half-opens after openMs; a probe success closes it", async () => {
    const { breaker: cb, clock } = breaker();
    let healthy = false;
    const guarded = withCircuitBreaker(
      new RouteFakeProvider("p", () => (healthy ? { text: "ok" } : { error: routeError("p", "overloaded") })),
      cb,
    );
    for (let i = 0; i < 3; i++) await settle(guarded.chat(request, live()));
    clock.advance(999);
    expect(cb.state).toBe("open");
    clock.advance(1);
    expect(cb.state).toBe("half_open");
    expect(cb.allowsCalls()).toBe(true);
    healthy = true;
    expect(await settle(guarded.chat(request, live()))).toBe("ok");
    expect(cb.snapshot()).toEqual({ state: "closed", consecutiveFailures: 0, errorRate: 0 });
  });

  it("lets only halfOpenProbes calls through while half-open, and a probe failure re-opens it", async () => {
    const { breaker: cb, clock } = breaker({ halfOpenProbes: 1 });
    cb.trip();
    clock.advance(1_000);
    const probe = cb.tryAcquire();
    expect(probe).toBeDefined();
    expect(cb.tryAcquire()).toBeUndefined();
    expect(cb.allowsCalls()).toBe(false);
    probe?.report("failure");
    expect(cb.state).toBe("open");
    expect(cb.retryAfterMs()).toBe(1_000);
  });

  it("needs every probe to succeed when halfOpenProbes is more than one", () => {
    const { breaker: cb, clock } = breaker({ halfOpenProbes: 2 });
    cb.trip();
    clock.advance(1_000);
    const first = cb.tryAcquire();
    const second = cb.tryAcquire();
    first?.report("success");
    expect(cb.state).toBe("half_open");
    second?.report("success");
    expect(cb.state).toBe("closed");
  });

  it("frees the probe slot of a call that ended neutrally", () => {
    const { breaker: cb, clock } = breaker();
    cb.trip();
    clock.advance(1_000);
    cb.tryAcquire()?.report("neutral");
    expect(cb.allowsCalls()).toBe(true);
    expect(cb.state).toBe("half_open");
  });

  it("opens on the error rate over the window once minRequests calls ended", () => {
    const { breaker: cb } = breaker({ failureThreshold: 100, minRequests: 10, errorRate: 0.5, windowMs: 10_000 });
    for (let i = 0; i < 9; i++) cb.tryAcquire()?.report(i % 2 === 0 ? "failure" : "success");
    expect(cb.state).toBe("closed");
    cb.tryAcquire()?.report("failure");
    expect(cb.snapshot()).toMatchObject({ state: "open", errorRate: 0.6 });

    const { breaker: windowed, clock: windowClock } = breaker({
      failureThreshold: 100,
      minRequests: 4,
      errorRate: 0.5,
      windowMs: 1_000,
    });
    windowed.tryAcquire()?.report("failure");
    windowed.tryAcquire()?.report("failure");
    windowClock.advance(1_001);
    windowed.tryAcquire()?.report("success");
    windowed.tryAcquire()?.report("success");
    windowed.tryAcquire()?.report("failure");
    expect(windowed.snapshot()).toMatchObject({ state: "closed", errorRate: 1 / 3 });
  });

  it("does not count the caller's errors", async () => {
    const { breaker: cb } = breaker({ failureThreshold: 1 });
    for (const kind of [
      "invalid_request",
      "context_length",
      "content_filter",
      "cancelled",
      "unsupported",
      "queue_full",
    ] as const) {
      const guarded = withCircuitBreaker(RouteFakeProvider.failing("p", kind), cb);
      expect(await settle(guarded.chat(request, live()))).toMatchObject({ kind });
    }
    expect(cb.snapshot()).toEqual({ state: "closed", consecutiveFailures: 0, errorRate: 0 });
    const aborted = new AbortController();
    aborted.abort();
    expect(outcomeOfError(routeError("p", "unavailable"), aborted.signal)).toBe("neutral");
    expect(outcomeOfError(new Error("bug"))).toBe("failure");
    for (const kind of ["rate_limited", "auth", "internal", "timeout"] as const)
      expect(outcomeOfError(routeError("p", kind))).toBe("failure");
  });

  it("ignores a call admitted before the circuit changed state", () => {
    const { breaker: cb, clock } = breaker();
    const slow = cb.tryAcquire();
    cb.trip();
    slow?.report("success");
    expect(cb.state).toBe("open");
    clock.advance(1_000);
    expect(cb.state).toBe("half_open");
  });

  it("counts a stream as a success when it finishes and a failure when it errors", async () => {
    const { breaker: cb } = breaker({ failureThreshold: 2 });
    const broken = withCircuitBreaker(
      new RouteFakeProvider("p", () => ({ text: "a b c", error: routeError("p", "unavailable"), errorAfterChunks: 2 })),
      cb,
    );
    await expect(drain(broken.streamChat(request, live()))).rejects.toMatchObject({ kind: "unavailable" });
    expect(cb.snapshot().consecutiveFailures).toBe(1);
    const fine = withCircuitBreaker(RouteFakeProvider.answering("p", "a b"), cb);
    await drain(fine.streamChat(request, live()));
    expect(cb.snapshot().consecutiveFailures).toBe(0);
  });

  it("releases a half-open probe when the consumer stops reading a stream early", async () => {
    const { breaker: cb, clock } = breaker();
    cb.trip();
    clock.advance(1_000);
    const guarded = withCircuitBreaker(RouteFakeProvider.answering("p", "a b c"), cb);
    for await (const part of guarded.streamChat(request, live())) {
      expect(part.type).toBe("delta");
      break;
    }
    expect(cb.state).toBe("half_open");
    expect(cb.allowsCalls()).toBe(true);
  });
});

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream) {
    // read to the end
  }
}
