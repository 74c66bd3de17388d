import { describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { CallTrace, type CallContext } from "../../../src/providers/call-context.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { ClientRateLimiter } from "../../../src/pipeline/rate-limit/client-rate-limiter.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";

const signal = new AbortController().signal;
const small = { promptTokens: 10, outputTokens: 10 };

function clients(config: unknown, windowMs?: number): ClientRateLimiter {
  const parsed = rateLimitingSchema.parse(config);
  return new ClientRateLimiter({
    config: parsed,
    store: createRateLimitStore(parsed),
    ...(windowMs === undefined ? {} : { windowMs }),
  });
}

function context(clientId: string, deadlineInMs?: number): CallContext {
  return {
    deadline: deadlineInMs === undefined ? undefined : Date.now() + deadlineInMs,
    clientId,
    trace: new CallTrace(),
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

describe("ClientRateLimiter", () => {
  it("does not limit the anonymous client", async () => {
    const limiter = clients({ perClient: { requestsPerMinute: 1 } });
    for (let i = 0; i < 5; i++) {
      const reservation = await limiter.acquire("", small, signal, context(""));
      expect(reservation.reservedTokens).toBe(0);
    }
    expect(limiter.limitsFor("")).toBeUndefined();
  });

  it("does not limit anyone without perClient or an override", async () => {
    const limiter = clients({});
    for (let i = 0; i < 5; i++) await limiter.acquire("team-a", small, signal, context("team-a", 100));
    expect(limiter.limitsFor("team-a")).toBeUndefined();
  });

  it("gives each client its own perClient limits", async () => {
    const limiter = clients({ perClient: { requestsPerMinute: 2 } });
    await limiter.acquire("team-a", small, signal);
    await limiter.acquire("team-a", small, signal);
    const refused = await errorOf(limiter.acquire("team-a", small, signal, context("team-a", 1000)));
    expect(refused).toMatchObject({ kind: "queue_full", provider: "" });
    expect(refused.retryAfterMs).toBeGreaterThan(1000);
    await expect(limiter.acquire("team-b", small, signal, context("team-b", 1000))).resolves.toBeDefined();
  });

  it("applies an override instead of perClient", async () => {
    const limiter = clients({
      perClient: { requestsPerMinute: 1 },
      clientOverrides: { vip: { requestsPerMinute: 3, tokensPerMinute: 100 } },
    });
    expect(limiter.limitsFor("vip")).toEqual({ requestsPerMinute: 3, tokensPerMinute: 100 });
    expect(limiter.limitsFor("other")).toEqual({ requestsPerMinute: 1 });
    for (let i = 0; i < 3; i++) await limiter.acquire("vip", small, signal);
    expect((await errorOf(limiter.acquire("vip", small, signal, context("vip", 500)))).kind).toBe("queue_full");
  });

  it("limits tokens, reserving and settling like a target", async () => {
    const limiter = clients({ perClient: { tokensPerMinute: 100 } });
    const first = await limiter.acquire("team-a", { promptTokens: 20, outputTokens: 70 }, signal);
    expect(first.reservedTokens).toBe(90);
    const waiting = limiter.acquire("team-a", { promptTokens: 20, outputTokens: 30 }, signal, context("team-a"));
    await first.settle({ totalTokens: 40 });
    await expect(waiting).resolves.toMatchObject({ reservedTokens: 50 });
  });

  it("queues a client over its limit and records the wait under a name that does not reveal its id", async () => {
    const limiter = clients({ perClient: { requestsPerMinute: 1 } }, 200);
    await limiter.acquire("sk-secret-key", small, signal);
    const ctx = context("sk-secret-key");
    await limiter.acquire("sk-secret-key", small, signal, ctx);
    const [event] = ctx.trace.events;
    expect(event).toMatchObject({ type: "queued", limiter: ClientRateLimiter.limiterName("sk-secret-key") });
    expect(JSON.stringify(event)).not.toContain("sk-secret-key");
    expect(ClientRateLimiter.limiterName("sk-secret-key")).toMatch(/^client:[0-9a-f]{16}$/);
  });

  it("lets a waiting client leave when it cancels", async () => {
    const limiter = clients({ perClient: { requestsPerMinute: 1 } });
    await limiter.acquire("team-a", small, signal);
    const controller = new AbortController();
    const waiting = limiter.acquire("team-a", small, controller.signal);
    controller.abort();
    expect((await errorOf(waiting)).kind).toBe("cancelled");
  });

  it("keeps counting a client whose idle limiter was dropped from memory", async () => {
    const parsed = rateLimitingSchema.parse({ perClient: { requestsPerMinute: 1 } });
    const limiter = new ClientRateLimiter({ config: parsed, store: createRateLimitStore(parsed), maxClients: 2 });
    await limiter.acquire("a", small, signal);
    await limiter.acquire("b", small, signal);
    await limiter.acquire("c", small, signal);
    expect((await errorOf(limiter.acquire("a", small, signal, context("a", 500)))).kind).toBe("queue_full");
  });
});

describe("client ids that are Object.prototype's names", () => {
  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "gives %j the perClient limits, like any other id",
    (id) => {
      const limiter = clients({
        perClient: { requestsPerMinute: 7 },
        clientOverrides: { "batch-jobs": { requestsPerMinute: 1 } },
      });
      expect(limiter.limitsFor(id)).toEqual({ requestsPerMinute: 7 });
    },
  );
});
