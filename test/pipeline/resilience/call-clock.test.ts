import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timeoutsSchema } from "../../../src/config/pipeline-schema.js";
import { CallClock } from "../../../src/pipeline/resilience/call-clock.js";
import type { ProviderError } from "../../../src/providers/provider-error.js";

const limits = (config: { firstTokenMs?: number; idleMs?: number; totalMs?: number }) => timeoutsSchema.parse(config);

/** A promise settled by hand, like the next part of a stream. */
function part<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** Whether `promise` has settled, and how, after the microtasks queued now have run. */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "resolved" | ProviderError> {
  let state: "pending" | "resolved" | ProviderError = "pending";
  promise.then(
    () => (state = "resolved"),
    (error: ProviderError) => (state = error),
  );
  await vi.advanceTimersByTimeAsync(0);
  return state;
}

describe("CallClock: one timer per limit, re-armed for each wait", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives each wait the whole idleMs: waits that each stay under it never time out, however long in sum", async () => {
    const clock = new CallClock("p", new AbortController().signal, limits({ idleMs: 100 }));
    for (let i = 0; i < 5; i++) {
      const next = part<number>();
      const waited = clock.race(next.promise, "idleMs");
      await vi.advanceTimersByTimeAsync(90);
      next.resolve(i);
      expect(await waited).toBe(i);
    }
    expect(clock.signal.aborted).toBe(false);
    clock.dispose();
  });

  it("ignores the limit passing while nobody waits (the consumer held the stream), and still times out the next wait", async () => {
    const clock = new CallClock("p", new AbortController().signal, limits({ idleMs: 100 }));
    const first = part<string>();
    const firstWait = clock.race(first.promise, "idleMs");
    first.resolve("a");
    expect(await firstWait).toBe("a");
    // The consumer holds the stream three limits long: the timer fires for nothing.
    await vi.advanceTimersByTimeAsync(300);
    expect(clock.signal.aborted).toBe(false);
    const second = clock.race(part<string>().promise, "idleMs");
    second.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(99);
    expect(await stateOf(second)).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    const error = await stateOf(second);
    expect(error).toMatchObject({ kind: "timeout", message: expect.stringContaining("idleMs") });
    expect(clock.signal.aborted).toBe(true);
    clock.dispose();
  });

  it("times the first wait with firstTokenMs and the later ones with idleMs", async () => {
    const clock = new CallClock("p", new AbortController().signal, limits({ firstTokenMs: 500, idleMs: 50 }));
    const first = part<string>();
    const firstWait = clock.race(first.promise, "firstTokenMs");
    await vi.advanceTimersByTimeAsync(400);
    first.resolve("a");
    expect(await firstWait).toBe("a");
    const second = clock.race(part<string>().promise, "idleMs");
    second.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(50);
    expect(await stateOf(second)).toMatchObject({ kind: "timeout", message: expect.stringContaining("after 50 ms") });
    clock.dispose();
  });

  it("stops firstTokenMs once the provider accepted the call", async () => {
    const clock = new CallClock("p", new AbortController().signal, limits({ firstTokenMs: 100, totalMs: 1_000 }));
    const answer = part<string>();
    const waited = clock.race(answer.promise, "firstTokenMs");
    clock.accepted();
    await vi.advanceTimersByTimeAsync(500);
    expect(await stateOf(waited)).toBe("pending");
    answer.resolve("done");
    expect(await waited).toBe("done");
    clock.dispose();
  });

  it("gives a later wait under firstTokenMs the whole limit again, not what the first wait left of it", async () => {
    // Kills call-clock.ts 103:11 of the 2026-12-02 run (docs/mutation/resilience-observe-survivors.md).
    const clock = new CallClock("p", new AbortController().signal, limits({ firstTokenMs: 100 }));
    const first = part<string>();
    const firstWait = clock.race(first.promise, "firstTokenMs");
    await vi.advanceTimersByTimeAsync(50);
    first.resolve("a");
    await expect(firstWait).resolves.toBe("a");
    await vi.advanceTimersByTimeAsync(30);
    const secondWait = clock.race(part<string>().promise, "firstTokenMs");
    secondWait.catch(() => undefined);
    // 60 ms into the second wait (140 ms after the first began): still within its 100 ms.
    await vi.advanceTimersByTimeAsync(60);
    expect(await stateOf(secondWait)).toBe("pending");
    await vi.advanceTimersByTimeAsync(40);
    expect(await stateOf(secondWait)).toMatchObject({
      kind: "timeout",
      message: expect.stringContaining("firstTokenMs"),
    });
    clock.dispose();
  });

  it("leaves no timer behind once disposed", () => {
    const clock = new CallClock(
      "p",
      new AbortController().signal,
      limits({ firstTokenMs: 100, idleMs: 100, totalMs: 1_000 }),
    );
    const first = clock.race(Promise.resolve(1), "firstTokenMs");
    const next = clock.race(Promise.resolve(2), "idleMs");
    expect(vi.getTimerCount()).toBe(3);
    clock.dispose();
    expect(vi.getTimerCount()).toBe(0);
    return Promise.all([first, next]);
  });
});
