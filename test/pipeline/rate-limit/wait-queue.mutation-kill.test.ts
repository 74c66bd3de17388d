// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/wait-queue.ts (see
// docs/mutation/wait-queue-survivors.md). Time is Vitest's fake clock: nothing here waits for real.
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Admitted, WaitQueue } from "../../../src/pipeline/rate-limit/wait-queue.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

interface Request {
  id: string;
  units: number;
}

interface PoolOptions {
  units?: number;
  retryMs?: number;
  maxDepth?: number;
  maxWaitMs?: number;
  estimateWaitMs?: (payloads: readonly Request[]) => number;
}

type Outcome =
  | { status: "pending" }
  | { status: "admitted"; admitted: Admitted<string> }
  | { status: "failed"; error: unknown };

interface Tracked {
  current: Outcome;
}

/**
 * A pool of units (a request's payload is the units it needs). `state.units` may be changed by the test without
 * waking the queue, as capacity that comes back with time does; a refused request is told to retry in `retryMs`.
 */
function pool(options: PoolOptions = {}) {
  const state = { units: options.units ?? 0 };
  const attempts: string[] = [];
  const retryMs = options.retryMs ?? 1000;
  const queue = new WaitQueue<Request, string>({
    name: "test-limiter",
    provider: "test-provider",
    maxDepth: options.maxDepth ?? 10,
    maxWaitMs: options.maxWaitMs ?? 10_000,
    attempt: async ({ id, units }) => {
      attempts.push(id);
      if (units > state.units) return { admitted: false, retryAfterMs: retryMs };
      state.units -= units;
      return { admitted: true, value: id };
    },
    estimateWaitMs:
      options.estimateWaitMs ??
      ((payloads) => (payloads.reduce((sum, p) => sum + p.units, 0) <= state.units ? 0 : retryMs)),
    discard: () => {},
    now: () => Date.now(),
  });
  const run = (id: string, units: number, deadline?: number, signal = new AbortController().signal): Tracked => {
    const tracked: Tracked = { current: { status: "pending" } };
    queue.run({ id, units }, signal, deadline).then(
      (admitted) => {
        tracked.current = { status: "admitted", admitted };
      },
      (error: unknown) => {
        tracked.current = { status: "failed", error };
      },
    );
    return tracked;
  };
  return { queue, state, attempts, run };
}

function errorOf(tracked: Tracked): ProviderError {
  const outcome = tracked.current;
  if (outcome.status === "failed" && outcome.error instanceof ProviderError) return outcome.error;
  throw new Error(`expected a ProviderError, the request is ${outcome.status}`);
}

/** Lets the queue's promises settle, and runs the timers due within `ms` of fake time. */
const elapse = (ms = 0): Promise<unknown> => vi.advanceTimersByTimeAsync(ms);

const T0 = 10_000;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});

afterEach(() => {
  vi.useRealTimers();
});

describe("WaitQueue: a newcomer behind others", () => {
  it("is queued when its estimated wait ends exactly at its maximum wait", async () => {
    const estimate = { ms: 0 };
    const p = pool({ maxWaitMs: 5000, estimateWaitMs: () => estimate.ms });
    const head = p.run("head", 1);
    await elapse();
    estimate.ms = 5000;
    const edge = p.run("edge", 1);
    await elapse();
    expect(edge.current.status).toBe("pending");
    expect(head.current.status).toBe("pending");
    expect(p.queue.depth).toBe(2);
  });
});

describe("WaitQueue: a waiting request whose time runs out", () => {
  it("reports the head's next try as retryAfterMs when it is later than the estimate", async () => {
    // Tried at T0, +300, +600, +900: at +1000 the next try is at +1200, 200 ms off; the estimate says 100.
    const p = pool({ retryMs: 300, maxWaitMs: 1000, estimateWaitMs: () => 100 });
    const a = p.run("a", 1);
    await elapse(999);
    expect(a.current.status).toBe("pending");
    await elapse(1);
    const error = errorOf(a);
    expect(error).toMatchObject({ kind: "queue_full", provider: "test-provider", retryAfterMs: 200 });
    expect(error.message).toBe(
      "test-limiter: rate limit exceeded and a wait of 200 ms would pass the maximum queue wait; retry in 200 ms",
    );
    expect(p.queue.depth).toBe(0);
  });

  it("estimates its wait from the requests ahead of it and itself, not those behind", async () => {
    const perRequest = { ms: 0 };
    const p = pool({ retryMs: 300, estimateWaitMs: (payloads) => perRequest.ms * payloads.length });
    const head = p.run("head", 1);
    const second = p.run("second", 1, T0 + 1000);
    const third = p.run("third", 1);
    await elapse(950);
    perRequest.ms = 300;
    await elapse(50);
    // head and second: 2 × 300 ms (the head's next try, at +1200, is only 200 ms off).
    expect(errorOf(second)).toMatchObject({ kind: "queue_full", retryAfterMs: 600 });
    expect(errorOf(second).message).toMatch(/a wait of 600 ms would pass the deadline/);
    expect([head.current.status, third.current.status]).toEqual(["pending", "pending"]);
    expect(p.queue.depth).toBe(2);
  });
});

describe("WaitQueue with queue depth 0", () => {
  it("fails a refused request at once, with the longer of the attempt's retry delay and its estimate", async () => {
    const p = pool({ maxDepth: 0, retryMs: 300, estimateWaitMs: (payloads) => 500 * payloads.length });
    const a = p.run("a", 1);
    await elapse();
    const error = errorOf(a);
    expect(error).toMatchObject({ kind: "queue_full", provider: "test-provider", retryAfterMs: 500 });
    expect(error.message).toBe(
      "test-limiter: rate limit exceeded and no request may wait (queue depth 0); retry in 500 ms",
    );
    expect(p.attempts).toEqual(["a"]);
    expect(p.queue.depth).toBe(0);
  });
});

describe("WaitQueue: when the head is tried", () => {
  it("tries a refused head again when its retry delay has passed, not before", async () => {
    const p = pool({ retryMs: 1000 });
    const a = p.run("a", 1);
    await elapse(500);
    p.state.units = 1;
    await elapse(499);
    expect(p.attempts).toEqual(["a"]);
    expect(a.current.status).toBe("pending");
    await elapse(1);
    expect(p.attempts).toEqual(["a", "a"]);
    expect(a.current).toEqual({ status: "admitted", admitted: { value: "a", waited: true, waitedMs: 1000 } });
  });

  it("does not try the head early when a request joins behind it", async () => {
    const p = pool({ retryMs: 1000 });
    p.run("a", 1);
    await elapse();
    p.run("b", 1);
    await elapse();
    expect(p.attempts).toEqual(["a"]);
    expect(p.queue.depth).toBe(2);
  });

  it("does not try the head early when a request behind it leaves", async () => {
    const p = pool({ retryMs: 1000 });
    p.run("a", 1);
    const controller = new AbortController();
    const b = p.run("b", 1, undefined, controller.signal);
    await elapse();
    controller.abort();
    await elapse();
    expect(errorOf(b).kind).toBe("cancelled");
    expect(p.attempts).toEqual(["a"]);
    expect(p.queue.depth).toBe(1);
  });

  it("tries the next request at once when the head is cancelled", async () => {
    const p = pool({ retryMs: 1000 });
    const controller = new AbortController();
    const a = p.run("a", 2, undefined, controller.signal);
    const b = p.run("b", 1);
    await elapse();
    p.state.units = 1;
    controller.abort();
    await elapse();
    expect(errorOf(a).kind).toBe("cancelled");
    expect(b.current).toEqual({ status: "admitted", admitted: { value: "b", waited: true, waitedMs: 0 } });
    expect(p.attempts).toEqual(["a", "b"]);
  });

  it("tries the next request at once when the refused head cannot be admitted before its deadline", async () => {
    const p = pool({ units: 1, retryMs: 1000 });
    const a = p.run("a", 5, T0 + 100);
    const b = p.run("b", 1);
    await elapse();
    const error = errorOf(a);
    expect(error).toMatchObject({ kind: "queue_full", retryAfterMs: 1000 });
    expect(error.message).toMatch(/a wait of 1000 ms would pass the deadline/);
    expect(b.current).toEqual({ status: "admitted", admitted: { value: "b", waited: true, waitedMs: 0 } });
    expect(p.queue.depth).toBe(0);
  });
});

describe("WaitQueue: error messages", () => {
  it("names the limiter when a request is cancelled, before or while it waits", async () => {
    const p = pool();
    const before = new AbortController();
    before.abort();
    const early = p.run("early", 1, undefined, before.signal);
    const during = new AbortController();
    const late = p.run("late", 1, undefined, during.signal);
    await elapse();
    during.abort();
    await elapse();
    for (const tracked of [early, late]) {
      expect(errorOf(tracked)).toMatchObject({ kind: "cancelled", provider: "test-provider" });
      expect(errorOf(tracked).message).toBe("test-limiter: cancelled while waiting for the rate limit");
    }
  });

  it("blames the maximum queue wait when it comes before the caller's deadline", async () => {
    const p = pool({ retryMs: 2000, maxWaitMs: 1000 });
    const a = p.run("a", 1, T0 + 5000);
    await elapse();
    expect(errorOf(a).message).toBe(
      "test-limiter: rate limit exceeded and a wait of 2000 ms would pass the maximum queue wait; retry in 2000 ms",
    );
  });
});

describe("WaitQueue: what a request leaves behind", () => {
  it("removes its abort listener and its expiry timer once admitted", async () => {
    const p = pool({ retryMs: 1000 });
    const signal = new AbortController().signal;
    const a = p.run("a", 1, undefined, signal);
    await elapse();
    expect(getEventListeners(signal, "abort")).toHaveLength(1);
    p.state.units = 1;
    p.queue.wake();
    await elapse();
    expect(a.current.status).toBe("admitted");
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps a request waiting when it has neither a deadline nor a maximum wait", async () => {
    const p = pool({ retryMs: 1000, maxWaitMs: Number.POSITIVE_INFINITY });
    const a = p.run("a", 1);
    await elapse(60_000);
    expect(a.current.status).toBe("pending");
    expect(p.queue.depth).toBe(1);
    p.state.units = 1;
    p.queue.wake();
    await elapse();
    expect(a.current).toMatchObject({ status: "admitted", admitted: { value: "a", waited: true, waitedMs: 60_000 } });
  });
});
