// Kills mutants that survived the mutation run of 2026-12-02 in src/pipeline/resilience/call-clock.ts (see
// docs/mutation/resilience-observe-survivors.md). Fixtures are built inside each test.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { timeoutsSchema } from "../../../src/config/pipeline-schema.js";
import { CallClock } from "../../../src/pipeline/resilience/call-clock.js";
import type { ProviderError } from "../../../src/providers/provider-error.js";

/** A promise settled by hand, like a provider's answer. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

/** Whether `promise` has settled, and how, once the microtasks queued now have run. */
async function stateOf(promise: Promise<unknown>): Promise<"pending" | "resolved" | ProviderError> {
  let state: "pending" | "resolved" | ProviderError = "pending";
  promise.then(
    () => (state = "resolved"),
    (error: ProviderError) => (state = error),
  );
  await vi.advanceTimersByTimeAsync(0);
  return state;
}

describe("CallClock: firstTokenMs", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives a later wait under firstTokenMs the whole limit again, not what the first wait left of it", async () => {
    const clock = new CallClock("p", new AbortController().signal, timeoutsSchema.parse({ firstTokenMs: 100 }));
    const first = pending<string>();
    const firstWait = clock.race(first.promise, "firstTokenMs");
    await vi.advanceTimersByTimeAsync(50);
    first.resolve("a");
    await expect(firstWait).resolves.toBe("a");
    await vi.advanceTimersByTimeAsync(30);

    const second = pending<string>();
    const secondWait = clock.race(second.promise, "firstTokenMs");
    // 60 ms into the second wait (140 ms after the first began): still within its 100 ms.
    await vi.advanceTimersByTimeAsync(60);
    expect(await stateOf(secondWait)).toBe("pending");
    await vi.advanceTimersByTimeAsync(40);
    const state = await stateOf(secondWait);
    expect(state).not.toBe("pending");
    expect(state).toMatchObject({ kind: "timeout", message: expect.stringContaining("firstTokenMs") });
    clock.dispose();
  });
});
