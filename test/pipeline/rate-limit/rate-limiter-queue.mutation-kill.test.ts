// Kills mutants that survived `npx stryker run --mutate src/pipeline/rate-limit/rate-limiter.ts` (see
// docs/mutation/rate-limiter-survivors.md): how the limiter's windows, refunds and holds feed its wait queue.
// Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { createRateLimitStore, type RateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimiter } from "../../../src/pipeline/rate-limit/rate-limiter.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { outcomeOf } from "./admission-outcome.js";

interface LimiterSpec {
  name?: string;
  limits: { requestsPerMinute?: number; tokensPerMinute?: number };
  store?: RateLimitStore;
  maxDepth?: number;
  maxWaitMs?: number;
  now?: () => number;
}

function limiterOf(spec: LimiterSpec): RateLimiter {
  return new RateLimiter({
    name: spec.name ?? "target:queue",
    provider: "test",
    limits: spec.limits,
    store: spec.store ?? createRateLimitStore(rateLimitingSchema.parse({})),
    queue: { maxDepth: spec.maxDepth ?? 16, maxWaitMs: spec.maxWaitMs ?? 30_000 },
    windowMs: 60_000,
    ...(spec.now === undefined ? {} : { now: spec.now }),
  });
}

const signal = (): AbortSignal => new AbortController().signal;

describe("RateLimiter: two targets on one store", () => {
  it("keep separate token windows", async () => {
    const store = createRateLimitStore(rateLimitingSchema.parse({}));
    const a = limiterOf({ name: "target:a", limits: { tokensPerMinute: 100 }, store, maxDepth: 0 });
    const b = limiterOf({ name: "target:b", limits: { tokensPerMinute: 100 }, store, maxDepth: 0 });
    await a.acquire({ promptTokens: 100, outputTokens: 0 }, signal());
    expect((await b.headroom()).tokens).toBe(100);
    expect(await outcomeOf(b.acquire({ promptTokens: 100, outputTokens: 0 }, signal()))).toBe("admitted");
  });
});

describe("RateLimiter: a request cancelled while its admission is being decided", () => {
  it("gives back the capacity it was admitted with", async () => {
    const limiter = limiterOf({ limits: { requestsPerMinute: 2, tokensPerMinute: 100 } });
    const cancel = new AbortController();
    const acquired = limiter.acquire({ promptTokens: 30, outputTokens: 0 }, cancel.signal);
    cancel.abort();
    await expect(acquired).rejects.toMatchObject({ kind: "cancelled" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await limiter.headroom()).toMatchObject({ requests: 2, tokens: 100 });
  });
});

describe("RateLimiter: a request no one may wait for (queue depth 0) while a 429 holds the target", () => {
  it("fails with the hold's remaining time as its retry delay", async () => {
    const now = 1_000_000;
    const limiter = limiterOf({ limits: { requestsPerMinute: 100 }, maxDepth: 0, now: () => now });
    limiter.observeError(
      new ProviderError({ kind: "rate_limited", provider: "test", message: "429", retryAfterMs: 4_000 }),
    );
    const failed = await limiter.acquire({ promptTokens: 1, outputTokens: 0 }, signal()).catch((e: unknown) => e);
    expect(failed).toMatchObject({ kind: "queue_full", retryAfterMs: 4_000 });
  });
});

describe("RateLimiter: output allowances counted on coming back", () => {
  it("stop counting once their call is settled", async () => {
    // A reserved 10 + 50 and used all of it: no refund is coming. B (50 tokens) does not fit beside A's 60
    // until A's minute ends, longer than the 30 s maximum wait: it fails at once.
    const limiter = limiterOf({ limits: { tokensPerMinute: 100 } });
    const a = await limiter.acquire({ promptTokens: 10, outputTokens: 50 }, signal());
    await a.settle({ totalTokens: 60 });
    const waiting = new AbortController();
    expect(await outcomeOf(limiter.acquire({ promptTokens: 50, outputTokens: 0 }, waiting.signal))).toBe("queue_full");
    waiting.abort();
  });

  it("let a request wait when they would cover it, though the window is over its limit now", async () => {
    // A holds 10 + 40 unsettled (40 may come back). B used 200 tokens more than its reservation: the window
    // holds 250 of 100 for the next minute. C needs 40, exactly what A may give back: it waits, rather than
    // failing for the minute the window needs.
    const limiter = limiterOf({ limits: { tokensPerMinute: 100 } });
    await limiter.acquire({ promptTokens: 10, outputTokens: 40 }, signal());
    const b = await limiter.acquire({ promptTokens: 10, outputTokens: 40 }, signal());
    await b.settle({ totalTokens: 200 });
    const waiting = new AbortController();
    expect(await outcomeOf(limiter.acquire({ promptTokens: 40, outputTokens: 0 }, waiting.signal))).toBe("waiting");
    waiting.abort();
  });
});

describe("RateLimiter: a request slot given back", () => {
  it("admits the request waiting for it at once, when only requests are limited", async () => {
    const limiter = limiterOf({ limits: { requestsPerMinute: 1 }, maxWaitMs: 120_000 });
    const first = await limiter.acquire({ promptTokens: 1, outputTokens: 0 }, signal());
    const waiting = new AbortController();
    const second = limiter.acquire({ promptTokens: 1, outputTokens: 0 }, waiting.signal);
    expect(await outcomeOf(second)).toBe("waiting");
    await first.release();
    expect(await outcomeOf(second)).toBe("admitted");
  });
});
