// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/rate-limit-window.ts and
// src/pipeline/rate-limit/rate-limit-policy.ts (see docs/testing.md, "Mutation testing"). Fixtures are built inside each
// test.
import { describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { withRateLimit } from "../../../src/pipeline/rate-limit/rate-limit-policy.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimiter } from "../../../src/pipeline/rate-limit/rate-limiter.js";
import { TokenEstimator, type TokenEstimate } from "../../../src/pipeline/rate-limit/tokens/token-estimator.js";
import { CallTrace } from "../../../src/providers/call-context.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError } from "../routing/route-fake-provider.js";
import { outcomeOf } from "./admission-outcome.js";

function limiterOf(limits: { requestsPerMinute?: number; tokensPerMinute?: number }, maxWaitMs = 30_000): RateLimiter {
  return new RateLimiter({
    name: "target:test",
    provider: "test",
    limits,
    store: createRateLimitStore(rateLimitingSchema.parse({})),
    queue: { maxDepth: 16, maxWaitMs },
    windowMs: 60_000,
  });
}

describe("RateLimiter: failing at once what would wait too long", () => {
  it("counts the requests already in the window when a request arrives behind a waiting one", async () => {
    // Two requests a minute, 100 tokens. The first holds 60 tokens (50 of them an output allowance it will
    // likely give back); the second is admitted by the request window but not the token window, and waits.
    // A third then needs a request slot the minute will not free before the first leaves: over 30 s.
    const limiter = limiterOf({ requestsPerMinute: 2, tokensPerMinute: 100 });
    const first: TokenEstimate = { promptTokens: 10, outputTokens: 50 };
    expect(await outcomeOf(limiter.acquire(first, new AbortController().signal))).toBe("admitted");
    const second = new AbortController();
    const secondOutcome = outcomeOf(limiter.acquire({ promptTokens: 60, outputTokens: 0 }, second.signal));
    expect(await secondOutcome).toBe("waiting");
    // The request slot the second took while its tokens did not fit was given back.
    expect((await limiter.headroom()).requests).toBe(1);
    const third = new AbortController();
    expect(await outcomeOf(limiter.acquire({ promptTokens: 1, outputTokens: 0 }, third.signal))).toBe("queue_full");
    second.abort();
    third.abort();
  });
});

describe("RateLimiter: a request one window refuses", () => {
  it("gives back the tokens the other window had taken for it", async () => {
    const limiter = limiterOf({ requestsPerMinute: 1, tokensPerMinute: 100 });
    expect(await outcomeOf(limiter.acquire({ promptTokens: 10, outputTokens: 0 }, new AbortController().signal))).toBe(
      "admitted",
    );
    const refused = new AbortController();
    const second = outcomeOf(limiter.acquire({ promptTokens: 10, outputTokens: 0 }, refused.signal));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await limiter.headroom()).tokens).toBe(90);
    refused.abort();
    expect(await second).not.toBe("admitted");
  });

  it("fails at once a request that would wait behind the queue for the token window longer than the maximum wait", async () => {
    // 100 tokens a minute, a wait of 90 s at most: the second waits a minute for the first to leave; the third
    // would need a second minute.
    const limiter = limiterOf({ tokensPerMinute: 100 }, 90_000);
    expect(await outcomeOf(limiter.acquire({ promptTokens: 100, outputTokens: 0 }, new AbortController().signal))).toBe(
      "admitted",
    );
    const waiting = new AbortController();
    const second = outcomeOf(limiter.acquire({ promptTokens: 50, outputTokens: 0 }, waiting.signal));
    expect(await second).toBe("waiting");
    const third = new AbortController();
    expect(await outcomeOf(limiter.acquire({ promptTokens: 100, outputTokens: 0 }, third.signal))).toBe("queue_full");
    waiting.abort();
    third.abort();
  });
});

/** An estimator whose counting of delivered text fails (the tokenizer could not load, say). */
class TextFailingEstimator extends TokenEstimator {
  override text(): Promise<number> {
    return Promise.reject(new Error("tokenizer unavailable"));
  }
}

describe("withRateLimit: a cut stream when its delivered text cannot be counted", () => {
  it("charges the delivered chunks, and the window keeps admitting", async () => {
    const limiter = limiterOf({ tokensPerMinute: 1_000 });
    const provider = new RouteFakeProvider("p", (call) =>
      call === 0 ? { text: "a b c d", errorAfterChunks: 2, error: routeError("p", "unavailable") } : { text: "ok" },
    );
    const limited = withRateLimit(provider, limiter, new TextFailingEstimator({ defaultMaxTokens: 100 }));
    const request: ChatRequest = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }], maxTokens: 100 };
    const context = { deadline: undefined, clientId: "", trace: new CallTrace() };
    await expect(async () => {
      for await (const _part of limited.streamChat(request, new AbortController().signal, context)) {
        // read until it breaks
      }
    }).rejects.toThrow(ProviderError);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const left = (await limiter.headroom()).tokens ?? 0;
    expect(left).toBeGreaterThan(800);
    expect(left).toBeLessThan(1_000);
    expect(await outcomeOf(limited.chat(request, new AbortController().signal, context))).toBe("admitted");
  });
});

describe("RateLimiter: settling a reservation after time has passed", () => {
  function clocked(): { limiter: RateLimiter; at: (ms: number) => void } {
    let now = 0;
    const limiter = new RateLimiter({
      name: "target:clocked",
      provider: "test",
      limits: { tokensPerMinute: 100 },
      store: createRateLimitStore(rateLimitingSchema.parse({})),
      queue: { maxDepth: 16, maxWaitMs: 30_000 },
      windowMs: 1_000,
      now: () => now,
    });
    return { limiter, at: (ms) => (now = ms) };
  }

  it("charges the tokens a call used beyond its reservation to the current window, though its own has passed", async () => {
    const { limiter, at } = clocked();
    const reservation = await limiter.acquire({ promptTokens: 10, outputTokens: 0 }, new AbortController().signal);
    at(5_000);
    await reservation.settle({ totalTokens: 50 });
    expect((await limiter.headroom()).tokens).toBe(60);
  });

  it("still refunds to a reservation in the oldest part of the window", async () => {
    const { limiter, at } = clocked();
    const reservation = await limiter.acquire({ promptTokens: 10, outputTokens: 50 }, new AbortController().signal);
    // Buckets of 100 ms: at 1 050 ms the window still reaches back to the bucket the reservation is in.
    at(1_050);
    expect((await limiter.headroom()).tokens).toBe(40);
    await reservation.settle({ totalTokens: 20 });
    expect((await limiter.headroom()).tokens).toBe(80);
  });
});

describe("Reservation: settled", () => {
  it("is false until the reservation is settled or released, then true", async () => {
    const limiter = limiterOf({ requestsPerMinute: 5 });
    const reservation = await limiter.acquire({ promptTokens: 1, outputTokens: 1 }, new AbortController().signal);
    expect(reservation.settled).toBe(false);
    await reservation.release();
    expect(reservation.settled).toBe(true);
  });
});

describe("RateLimiter: which errors hold the target", () => {
  const estimate: TokenEstimate = { promptTokens: 10, outputTokens: 10 };
  const deadlineSoon = () => ({ deadline: Date.now() + 1_000, clientId: "", trace: new CallTrace() });

  it("holds every request for a 429's retry delay", async () => {
    const rl = limiterOf({ requestsPerMinute: 100 });
    rl.observeError(
      new ProviderError({ kind: "rate_limited", provider: "test", message: "429", retryAfterMs: 20_000 }),
    );
    expect(await outcomeOf(rl.acquire(estimate, new AbortController().signal, deadlineSoon()))).toBe("queue_full");
  });

  it("is not held by an error that is not a 429, whatever delay it carries, nor by a 429 without a delay", async () => {
    const errors = [
      new ProviderError({ kind: "unavailable", provider: "test", message: "503", retryAfterMs: 20_000 }),
      new ProviderError({ kind: "overloaded", provider: "test", message: "529", retryAfterMs: 20_000 }),
      new ProviderError({ kind: "rate_limited", provider: "test", message: "429", retryAfterMs: 0 }),
      new ProviderError({ kind: "rate_limited", provider: "test", message: "429" }),
    ];
    for (const error of errors) {
      const rl = limiterOf({ requestsPerMinute: 100 });
      rl.observeError(error);
      expect(await outcomeOf(rl.acquire(estimate, new AbortController().signal, deadlineSoon()))).toBe("admitted");
    }
  });
});
