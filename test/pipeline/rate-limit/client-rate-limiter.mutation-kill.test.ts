// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/client-rate-limiter.ts (see
// docs/testing.md, "Mutation testing"). Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { CallTrace, type CallContext, type CallerLimits } from "../../../src/providers/call-context.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { ClientRateLimiter } from "../../../src/pipeline/rate-limit/client-rate-limiter.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";

const small = { promptTokens: 10, outputTokens: 10 };

function clients(config: unknown, extra: { maxClients?: number; now?: () => number; windowMs?: number } = {}) {
  const parsed = rateLimitingSchema.parse(config);
  return new ClientRateLimiter({ config: parsed, store: createRateLimitStore(parsed), ...extra });
}

function keyContext(clientId: string, clientLimits: CallerLimits, deadline?: number): CallContext {
  return { deadline, clientId, clientLimits, trace: new CallTrace() };
}

/** "admitted", or the kind of the error the acquisition failed with. */
async function outcome(
  limiter: ClientRateLimiter,
  clientId: string,
  own: CallerLimits,
  signal = new AbortController().signal,
  deadline?: number,
): Promise<string> {
  try {
    await limiter.acquire(clientId, small, signal, keyContext(clientId, own, deadline));
    return "admitted";
  } catch (error) {
    if (error instanceof ProviderError) return error.kind;
    throw error;
  }
}

describe("ClientRateLimiter: a key's own limits over the configured ones", () => {
  it("takes a key's own token limit and keeps the configured request limit it does not set", () => {
    const limiter = clients({ perClient: { requestsPerMinute: 2, tokensPerMinute: 1_000 } });
    const limits = limiter.limitsFor("team-a", { tokensPerMinute: 500 });
    expect(limits?.requestsPerMinute).toBe(2);
    expect(limits?.tokensPerMinute).toBe(500);
  });

  it("takes a key's own request limit and keeps the configured token limit it does not set", () => {
    const limiter = clients({ perClient: { requestsPerMinute: 2, tokensPerMinute: 1_000 } });
    const limits = limiter.limitsFor("team-a", { requestsPerMinute: 5 });
    expect(limits?.requestsPerMinute).toBe(5);
    expect(limits?.tokensPerMinute).toBe(1_000);
  });

  it("enforces the configured request limit for a key that sets only its token limit", async () => {
    const limiter = clients({ perClient: { requestsPerMinute: 1 } });
    expect(await outcome(limiter, "team-a", { tokensPerMinute: 10_000 })).toBe("admitted");
    expect(await outcome(limiter, "team-a", { tokensPerMinute: 10_000 })).toBe("queue_full");
  });

  it("says no limit applies to a client whose override sets none", () => {
    const limiter = clients({ perClient: { requestsPerMinute: 2 }, clientOverrides: { "team-a": {} } });
    expect(limiter.limitsFor("team-a")).toBeUndefined();
  });
});

describe("ClientRateLimiter: the clock", () => {
  it("counts the window on the clock it is given", async () => {
    let now = 0;
    const limiter = clients(
      { perClient: { requestsPerMinute: 1 }, queue: { maxWaitMs: 1 } },
      {
        windowMs: 1_000,
        now: () => now,
      },
    );
    expect(await outcome(limiter, "team-a", {})).toBe("admitted");
    expect(await outcome(limiter, "team-a", {})).toBe("queue_full");
    now = 2_000;
    expect(await outcome(limiter, "team-a", {})).toBe("admitted");
  });
});

// A client's limiter keeps the limits it was made with; once dropped from memory, the client's next call gets
// a limiter with that call's limits (over the same counts, kept in the store). Each client below made one
// request under a limit of 3; a probe under a limit of 1 is then admitted only while the old limiter is kept.
describe("ClientRateLimiter: idle limiters dropped once there are more than maxClients", () => {
  const used = { requestsPerMinute: 3 };
  const probe = { requestsPerMinute: 1 };

  it("drops the idle limiter of the client not seen for longest when a new client comes", async () => {
    const limiter = clients({}, { maxClients: 1 });
    expect(await outcome(limiter, "team-a", used)).toBe("admitted");
    expect(await outcome(limiter, "team-b", used)).toBe("admitted");
    expect(await outcome(limiter, "team-a", probe)).toBe("queue_full");
  });

  it("drops only as many as needed: the other clients keep their limiters", async () => {
    const limiter = clients({}, { maxClients: 2 });
    expect(await outcome(limiter, "team-a", used)).toBe("admitted");
    expect(await outcome(limiter, "team-b", used)).toBe("admitted");
    expect(await outcome(limiter, "team-c", used)).toBe("admitted");
    expect(await outcome(limiter, "team-b", probe)).toBe("admitted");
    expect(await outcome(limiter, "team-a", probe)).toBe("queue_full");
  });

  it("counts a client's latest call, not its first, as when it was last seen", async () => {
    const limiter = clients({}, { maxClients: 2 });
    expect(await outcome(limiter, "team-a", used)).toBe("admitted");
    expect(await outcome(limiter, "team-b", used)).toBe("admitted");
    expect(await outcome(limiter, "team-a", used)).toBe("admitted");
    expect(await outcome(limiter, "team-c", used)).toBe("admitted");
    expect(await outcome(limiter, "team-a", probe)).toBe("admitted");
    expect(await outcome(limiter, "team-b", probe)).toBe("queue_full");
  });

  it("keeps the limiter of a client with a request waiting in its queue", async () => {
    const limiter = clients({ queue: { maxWaitMs: 300_000 } }, { maxClients: 1 });
    const one = { requestsPerMinute: 1 };
    expect(await outcome(limiter, "team-a", one)).toBe("admitted");
    const waiting = new AbortController();
    const waiter = outcome(limiter, "team-a", one, waiting.signal);
    expect(await outcome(limiter, "team-b", one)).toBe("admitted");
    // Still the limiter made with a limit of 1, and its queue: the probe would wait a minute behind the waiter.
    const probe = await outcome(limiter, "team-a", { requestsPerMinute: 5 }, undefined, Date.now() + 1_000);
    expect(probe).toBe("queue_full");
    waiting.abort();
    expect(await waiter).toBe("cancelled");
  });
});
