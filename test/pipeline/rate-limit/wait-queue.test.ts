import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { WaitQueue, type Attempt } from "../../../src/pipeline/rate-limit/wait-queue.js";

/**
 * A pool of units refilled by the test: a request (its payload is the units it needs) is admitted when the
 * pool holds enough; otherwise it is told to retry in `retryMs`. The queue is woken on refill, as a limiter
 * does on a refund.
 */
function unitPool(options: { units: number; retryMs?: number; maxDepth?: number; maxWaitMs?: number }) {
  let units = options.units;
  const admitted: string[] = [];
  const discarded: string[] = [];
  const attempts: string[] = [];
  const queue = new WaitQueue<{ id: string; units: number }, string>({
    name: "test-limiter",
    provider: "test-provider",
    maxDepth: options.maxDepth ?? 10,
    maxWaitMs: options.maxWaitMs ?? 5000,
    attempt: async ({ id, units: need }): Promise<Attempt<string>> => {
      attempts.push(id);
      if (need > units) return { admitted: false, retryAfterMs: options.retryMs ?? 1000 };
      units -= need;
      admitted.push(id);
      return { admitted: true, value: id };
    },
    estimateWaitMs: (payloads) =>
      payloads.reduce((sum, p) => sum + p.units, 0) <= units ? 0 : (options.retryMs ?? 1000),
    discard: (id) => {
      discarded.push(id);
    },
  });
  return {
    queue,
    admitted,
    discarded,
    attempts,
    refill(more: number) {
      units += more;
      queue.wake();
    },
    run(id: string, need: number, signal = new AbortController().signal, deadline?: number) {
      return queue.run({ id, units: need }, signal, deadline);
    },
  };
}

async function errorOf(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe("WaitQueue", () => {
  it("admits at once while there is room, without counting it as a wait", async () => {
    const pool = unitPool({ units: 3 });
    await expect(pool.run("a", 2)).resolves.toEqual({ value: "a", waited: false, waitedMs: 0 });
    expect(pool.queue.depth).toBe(0);
  });

  it("admits waiting requests in arrival order as room comes back", async () => {
    const pool = unitPool({ units: 0 });
    const runs = ["a", "b", "c"].map((id) => pool.run(id, 1));
    await tick();
    expect(pool.queue.depth).toBe(3);
    pool.refill(1);
    await runs[0];
    pool.refill(2);
    const results = await Promise.all(runs);
    expect(pool.admitted).toEqual(["a", "b", "c"]);
    expect(results.every((r) => r.waited)).toBe(true);
  });

  it("does not let small requests starve a large one at the head", async () => {
    const pool = unitPool({ units: 0 });
    const big = pool.run("big", 5);
    const small = [pool.run("s1", 1), pool.run("s2", 1)];
    await tick();
    for (let i = 0; i < 4; i++) {
      pool.refill(1);
      await tick();
    }
    expect(pool.admitted).toEqual([]);
    expect(pool.attempts.filter((id) => id !== "big")).toEqual([]);
    pool.refill(1);
    await big;
    pool.refill(2);
    await Promise.all(small);
    expect(pool.admitted).toEqual(["big", "s1", "s2"]);
  });

  it("fails at once with queue_full and a retry delay when the queue is full", async () => {
    const pool = unitPool({ units: 0, maxDepth: 2, retryMs: 700 });
    const waiting = [pool.run("a", 1), pool.run("b", 1)];
    await tick();
    const error = await errorOf(pool.run("c", 1));
    expect(error).toMatchObject({ kind: "queue_full", provider: "test-provider", retryAfterMs: 700 });
    expect(error.message).toMatch(/queue is full/);
    pool.refill(2);
    await Promise.all(waiting);
  });

  it("with maxDepth 0 fails over the limit instead of waiting", async () => {
    const pool = unitPool({ units: 0, maxDepth: 0, retryMs: 300 });
    expect(await errorOf(pool.run("a", 1))).toMatchObject({ kind: "queue_full", retryAfterMs: 300 });
    pool.refill(1);
    await expect(pool.run("b", 1)).resolves.toMatchObject({ value: "b" });
  });

  it("fails at once when the wait would pass the caller's deadline", async () => {
    const pool = unitPool({ units: 0, retryMs: 2000 });
    const error = await errorOf(pool.run("a", 1, new AbortController().signal, Date.now() + 500));
    expect(error).toMatchObject({ kind: "queue_full", retryAfterMs: 2000 });
    expect(error.message).toMatch(/deadline/);
    expect(pool.queue.depth).toBe(0);
  });

  it("fails at once when the wait would pass the maximum wait", async () => {
    const pool = unitPool({ units: 0, retryMs: 2000, maxWaitMs: 1000 });
    const error = await errorOf(pool.run("a", 1));
    expect(error).toMatchObject({ kind: "queue_full", retryAfterMs: 2000 });
    expect(error.message).toMatch(/maximum queue wait/);
  });

  it("fails a newcomer at once when the requests ahead already need more than its deadline allows", async () => {
    const pool = unitPool({ units: 0, retryMs: 50 });
    const ahead = pool.run("a", 1);
    await tick();
    const error = await errorOf(pool.run("b", 1, new AbortController().signal, Date.now() + 20));
    expect(error.kind).toBe("queue_full");
    pool.refill(1);
    await ahead;
  });

  it("fails a request still waiting when its deadline comes", async () => {
    const pool = unitPool({ units: 0, retryMs: 10 });
    const error = await errorOf(pool.run("a", 1, new AbortController().signal, Date.now() + 60));
    expect(error.kind).toBe("queue_full");
    expect(pool.queue.depth).toBe(0);
    expect(pool.attempts.length).toBeGreaterThan(1);
  });

  it("lets a cancelled request leave at once, and the next one take its turn", async () => {
    const pool = unitPool({ units: 0 });
    const controller = new AbortController();
    const first = pool.run("a", 1, controller.signal);
    const second = pool.run("b", 1);
    await tick();
    controller.abort();
    expect(await errorOf(first)).toMatchObject({ kind: "cancelled", provider: "test-provider" });
    expect(pool.queue.depth).toBe(1);
    pool.refill(1);
    await expect(second).resolves.toMatchObject({ value: "b", waited: true });
  });

  it("refuses an already cancelled request without trying it", async () => {
    const pool = unitPool({ units: 5 });
    const controller = new AbortController();
    controller.abort();
    expect(await errorOf(pool.run("a", 1, controller.signal))).toMatchObject({ kind: "cancelled" });
    expect(pool.attempts).toEqual([]);
  });

  it("gives back what was admitted for a request that left during its attempt", async () => {
    const controller = new AbortController();
    let release: (() => void) | undefined;
    const discarded: string[] = [];
    const queue = new WaitQueue<string, string>({
      name: "slow",
      provider: "p",
      maxDepth: 5,
      maxWaitMs: 5000,
      attempt: (id) => new Promise((resolve) => (release = () => resolve({ admitted: true, value: id }))),
      estimateWaitMs: () => 0,
      discard: (id) => discarded.push(id),
    });
    const run = queue.run("a", controller.signal, undefined);
    await tick();
    controller.abort();
    expect(await errorOf(run)).toMatchObject({ kind: "cancelled" });
    release?.();
    await tick();
    expect(discarded).toEqual(["a"]);
  });

  it("reports an attempt that throws as the request's failure, as a ProviderError", async () => {
    const queue = new WaitQueue<string, string>({
      name: "broken",
      provider: "p",
      maxDepth: 5,
      maxWaitMs: 5000,
      attempt: () => Promise.reject(new Error("store down")),
      estimateWaitMs: () => 0,
      discard: () => {},
    });
    const error = await errorOf(queue.run("a", new AbortController().signal, undefined));
    expect(error).toMatchObject({ kind: "internal" });
    expect(error.message).toMatch(/store down/);
  });
});
