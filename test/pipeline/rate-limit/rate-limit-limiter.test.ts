import { describe, expect, it, vi } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimiter, type RateLimiterOptions } from "../../../src/pipeline/rate-limit/rate-limiter.js";

const signal = new AbortController().signal;

function limiter(overrides: Partial<RateLimiterOptions> = {}): RateLimiter {
  return new RateLimiter({
    name: "target:test",
    provider: "test",
    limits: {},
    store: createRateLimitStore(rateLimitingSchema.parse({})),
    queue: { maxDepth: 16, maxWaitMs: 5000 },
    windowMs: 60_000,
    ...overrides,
  });
}

function context(deadline?: number): CallContext {
  return { deadline, clientId: "", trace: new CallTrace() };
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

const small = { promptTokens: 10, outputTokens: 10 };

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("RateLimiter: requests and tokens per window", () => {
  it("queues a request over the request limit and admits it when the window slides, recording the wait", async () => {
    const rl = limiter({ limits: { requestsPerMinute: 2 }, windowMs: 300 });
    await rl.acquire(small, signal);
    await rl.acquire(small, signal);
    const ctx = context();
    await rl.acquire(small, signal, ctx);
    const [event] = ctx.trace.events;
    expect(event).toMatchObject({ type: "queued", limiter: "target:test" });
    expect(event?.type === "queued" && event.waitedMs).toBeGreaterThan(0);
  });

  it("never admits more than the limit in any window: sliding, with no burst across a boundary", async () => {
    // On a fake clock: the time an admission is recorded is the time the limiter admitted it, however busy the
    // machine (a real clock read after the await can be late, putting an early admission into a later window).
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    try {
      const windowMs = 400;
      const rl = limiter({ limits: { requestsPerMinute: 5 }, windowMs, queue: { maxDepth: 64, maxWaitMs: 10_000 } });
      const admittedAt: number[] = [];
      const all = Promise.all(
        Array.from({ length: 17 }, async () => {
          await rl.acquire(small, new AbortController().signal); // one signal per call, as in the gateway
          admittedAt.push(Date.now());
        }),
      );
      await vi.advanceTimersByTimeAsync(5_000);
      await all;
      admittedAt.sort((a, b) => a - b);
      for (const start of admittedAt) {
        expect(admittedAt.filter((t) => t >= start && t < start + windowMs).length).toBeLessThanOrEqual(5);
      }
      expect(admittedAt.length).toBe(17);
      expect(admittedAt.at(-1)).toBeGreaterThanOrEqual((admittedAt[0] ?? 0) + 3 * windowMs);
    } finally {
      vi.useRealTimers();
    }
  });

  it("fails at once with queue_full and the time until the window has room, when that is past the maximum wait", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 100 }, queue: { maxDepth: 16, maxWaitMs: 1000 } });
    const first = await rl.acquire({ promptTokens: 60, outputTokens: 40 }, signal);
    await first.settle({ totalTokens: 100 });
    const error = await errorOf(rl.acquire(small, signal));
    expect(error).toMatchObject({ kind: "queue_full", provider: "test", retryable: false });
    expect(error.retryAfterMs).toBeGreaterThan(1000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(66_000);
  });

  it("fails at once when the caller's deadline comes before the room", async () => {
    const rl = limiter({ limits: { requestsPerMinute: 1 } });
    await rl.acquire(small, signal);
    const error = await errorOf(rl.acquire(small, signal, context(Date.now() + 2000)));
    expect(error.kind).toBe("queue_full");
    expect(error.message).toMatch(/deadline/);
  });

  it("admits a request whose output allowance passes the whole token limit, reserving the limit", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 100 } });
    const reservation = await rl.acquire({ promptTokens: 100, outputTokens: 1000 }, signal);
    expect(reservation.reservedTokens).toBe(100);
    expect((await rl.headroom()).tokens).toBe(0);
  });

  it("refuses at once a prompt larger than the whole token limit, even on an empty window: it can never fit", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 100 } });
    const error = await errorOf(rl.acquire({ promptTokens: 101, outputTokens: 10 }, signal));
    expect(error).toMatchObject({ kind: "queue_full", provider: "test", retryable: false, retryAfterMs: undefined });
    expect(error.message).toBe(
      "target:test: the prompt alone is about 101 tokens, more than its whole tokensPerMinute limit (100): it can never be admitted; shorten it or raise the limit",
    );
    expect(await rl.headroom()).toMatchObject({ tokens: 100, queued: 0 });
  });
});

describe("RateLimiter: settlement", () => {
  it("refunds what the real usage did not need and admits the next request at once", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 100 } });
    const first = await rl.acquire({ promptTokens: 20, outputTokens: 60 }, signal);
    const second = rl.acquire({ promptTokens: 20, outputTokens: 60 }, signal);
    await pause(20);
    expect(rl.queued).toBe(1);
    await first.settle({ totalTokens: 15 });
    await second;
    expect((await rl.headroom()).tokens).toBe(100 - 15 - 80);
  });

  it("lets a request wait for refunds of calls in flight, and fails it with the window's slide as retry delay", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 100 }, queue: { maxDepth: 16, maxWaitMs: 100 } });
    await rl.acquire({ promptTokens: 20, outputTokens: 80 }, signal);
    const waiting = errorOf(rl.acquire(small, signal));
    await pause(30);
    expect(rl.queued).toBe(1);
    const error = await waiting;
    expect(error.kind).toBe("queue_full");
    expect(error.retryAfterMs).toBeGreaterThan(50_000);
  });

  it("charges usage beyond the reservation", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 1000 } });
    const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 30 }, signal);
    await reservation.settle({ totalTokens: 120 });
    expect((await rl.headroom()).tokens).toBe(880);
  });

  it("settles once: later settlements are ignored", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 1000 } });
    const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 30 }, signal);
    await reservation.settle({ totalTokens: 10 });
    await reservation.release();
    await reservation.settle({ totalTokens: 500 });
    expect((await rl.headroom()).tokens).toBe(990);
  });

  it("release gives back the request and every token: the call was never made", async () => {
    const rl = limiter({ limits: { requestsPerMinute: 5, tokensPerMinute: 1000 } });
    const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 30 }, signal);
    await reservation.release();
    expect(await rl.headroom()).toMatchObject({ requests: 5, tokens: 1000 });
  });

  it("a call that never reached the provider (circuit open, queue full below) gives everything back", async () => {
    const rl = limiter({ limits: { requestsPerMinute: 5, tokensPerMinute: 1000 } });
    const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 30 }, signal);
    await reservation.settleFailure(new ProviderError({ kind: "circuit_open", provider: "test", message: "open" }));
    expect(await rl.headroom()).toMatchObject({ requests: 5, tokens: 1000 });
  });

  it("an error answer (a 400, a 429) refunds the tokens and keeps the request counted", async () => {
    const rl = limiter({ limits: { requestsPerMinute: 5, tokensPerMinute: 1000 } });
    for (const status of [400, 429]) {
      const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 30 }, signal);
      await reservation.settleFailure(
        new ProviderError({ kind: "invalid_request", provider: "test", message: "bad", status }),
      );
    }
    expect(await rl.headroom()).toMatchObject({ requests: 3, tokens: 1000 });
  });

  it("a call cut mid-way keeps its prompt and the output delivered", async () => {
    const rl = limiter({ limits: { tokensPerMinute: 1000 } });
    const reservation = await rl.acquire({ promptTokens: 20, outputTokens: 300 }, signal);
    await reservation.settleFailure(new ProviderError({ kind: "unavailable", provider: "test", message: "cut" }), 7);
    expect((await rl.headroom()).tokens).toBe(1000 - 27);
  });
});

describe("RateLimiter: the provider's own limits", () => {
  it("holds requests while the provider reports no requests left, until its reset", async () => {
    const rl = limiter();
    const now = Date.now();
    rl.observe({ observedAt: now, requests: { limit: 10, remaining: 0, resetAt: now + 150 } });
    const ctx = context();
    const admitted = rl.acquire(small, signal, ctx);
    await pause(30);
    expect(rl.queued).toBe(1);
    await admitted;
    expect(ctx.trace.events).toMatchObject([{ type: "queued", limiter: "target:test" }]);
  });

  it("fails at once with the reset as retry delay when the caller's deadline comes first", async () => {
    const rl = limiter();
    const now = Date.now();
    rl.observe({ observedAt: now, tokens: { remaining: 50, resetAt: now + 30_000 } });
    const error = await errorOf(rl.acquire({ promptTokens: 40, outputTokens: 40 }, signal, context(now + 1000)));
    expect(error.kind).toBe("queue_full");
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    await expect(
      rl.acquire({ promptTokens: 20, outputTokens: 20 }, signal, context(now + 1000)),
    ).resolves.toBeDefined();
  });

  it("counts what it admits against the reported remaining until the next report", async () => {
    const rl = limiter();
    const now = Date.now();
    rl.observe({ observedAt: now, requests: { remaining: 2, resetAt: now + 60_000 } });
    await rl.acquire(small, signal);
    await rl.acquire(small, signal);
    expect((await errorOf(rl.acquire(small, signal, context(now + 500)))).kind).toBe("queue_full");
    rl.observe({ observedAt: Date.now(), requests: { remaining: 5, resetAt: now + 60_000 } });
    await expect(rl.acquire(small, signal, context(now + 500))).resolves.toBeDefined();
  });

  it("ignores a report older than the one it holds", async () => {
    const rl = limiter();
    const now = Date.now();
    rl.observe({ observedAt: now, requests: { remaining: 5, resetAt: now + 60_000 } });
    rl.observe({ observedAt: now - 1000, requests: { remaining: 0, resetAt: now + 60_000 } });
    await expect(rl.acquire(small, signal, context(now + 500))).resolves.toBeDefined();
  });

  it("holds every request for a 429's retry delay", async () => {
    const rl = limiter();
    rl.observeError(
      new ProviderError({
        kind: "rate_limited",
        provider: "test",
        message: "slow down",
        status: 429,
        retryAfterMs: 20_000,
      }),
    );
    const error = await errorOf(rl.acquire(small, signal, context(Date.now() + 1000)));
    expect(error.kind).toBe("queue_full");
    expect(error.retryAfterMs).toBeGreaterThan(15_000);
  });
});
