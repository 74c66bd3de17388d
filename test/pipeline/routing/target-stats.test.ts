import { describe, expect, it } from "vitest";
import type { RouteProvider } from "../../../src/pipeline/routing/route-provider.js";
import { TargetStats } from "../../../src/pipeline/routing/target-stats.js";
import { routeMember, routeOver } from "./route-members.js";
import { RouteFakeProvider, routeError } from "./route-fake-provider.js";

const request = { model: "m", messages: [{ role: "user" as const, content: "hi" }] };
const live = (): AbortSignal => new AbortController().signal;

/** A clock tests move by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 0;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe("TargetStats", () => {
  it("averages latency samples exponentially", () => {
    const stats = new TargetStats({ alpha: 0.5 });
    expect(stats.latencyEwmaMs).toBeUndefined();
    stats.recordLatency(100);
    expect(stats.latencyEwmaMs).toBe(100);
    stats.recordLatency(200);
    expect(stats.latencyEwmaMs).toBe(150);
    stats.recordLatency(50);
    expect(stats.snapshot()).toEqual({ inFlight: 0, latencyEwmaMs: 100 });
  });

  it("samples a call once, a timeout as latency, and other failures not at all", () => {
    const clock = manualClock();
    const stats = new TargetStats({ alpha: 1, now: clock.now });
    const call = stats.begin();
    expect(stats.inFlight).toBe(1);
    clock.advance(40);
    call.sample();
    clock.advance(100);
    call.sample();
    call.end();
    call.end();
    expect(stats.snapshot()).toEqual({ inFlight: 0, latencyEwmaMs: 40 });

    const failed = stats.begin();
    clock.advance(7);
    failed.end(routeError("p", "unavailable"));
    expect(stats.latencyEwmaMs).toBe(40);
    const timedOut = stats.begin();
    clock.advance(900);
    timedOut.end(routeError("p", "timeout"));
    expect(stats.snapshot()).toEqual({ inFlight: 0, latencyEwmaMs: 900 });
  });
});

describe("RouteProvider feeding a target's TargetStats", () => {
  /** A one-target route over `fake`, and that target's stats. */
  function routed(fake: RouteFakeProvider): { route: RouteProvider; stats: TargetStats } {
    const member = routeMember(fake);
    return { route: routeOver([member]), stats: member.stats };
  }

  it("counts unary calls in flight while they run", async () => {
    const { route, stats } = routed(new RouteFakeProvider("p", () => ({ text: "ok", delayMs: 20 })));
    const running = [route.chat(request, live()), route.chat(request, live())];
    expect(stats.inFlight).toBe(2);
    await Promise.all(running);
    expect(stats.inFlight).toBe(0);
    expect(stats.latencyEwmaMs).toBeGreaterThan(0);
  });

  it("counts a stream in flight until it ends, sampling its first part", async () => {
    const { route, stats } = routed(RouteFakeProvider.answering("p", "a b c"));
    const iterator = route.streamChat(request, live())[Symbol.asyncIterator]();
    await iterator.next();
    expect(stats.inFlight).toBe(1);
    expect(stats.latencyEwmaMs).toBeDefined();
    await iterator.return?.();
    expect(stats.inFlight).toBe(0);
  });

  it("leaves no sample for a failed call or a stream dropped before its first part", async () => {
    const failing = routed(RouteFakeProvider.failing("p", "overloaded"));
    await expect(failing.route.chat(request, live())).rejects.toMatchObject({ kind: "overloaded" });
    expect(failing.stats.snapshot()).toEqual({ inFlight: 0, latencyEwmaMs: undefined });
    const { route, stats } = routed(new RouteFakeProvider("p", () => ({ hang: true })));
    const controller = new AbortController();
    const pending = route.streamChat(request, controller.signal)[Symbol.asyncIterator]().next();
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: "cancelled" });
    expect(stats.snapshot()).toEqual({ inFlight: 0, latencyEwmaMs: undefined });
  });

  it("samples a call that timed out (the timeout is its latency)", async () => {
    const { route, stats } = routed(RouteFakeProvider.failing("p", "timeout"));
    await expect(route.chat(request, live())).rejects.toMatchObject({ kind: "timeout" });
    expect(stats.inFlight).toBe(0);
    expect(stats.latencyEwmaMs).toBeDefined();
  });
});
