// Kills mutants that survived `npm run test:mutation` in src/pipeline/resilience/circuit-breaker.ts (see
// docs/testing.md, "Mutation testing").
import { describe, expect, it } from "vitest";
import { circuitBreakerSchema } from "../../../src/config/pipeline-schema.js";
import { CircuitBreaker, type CircuitState } from "../../../src/pipeline/resilience/circuit-breaker.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

function breaker(overrides: Partial<Parameters<typeof circuitBreakerSchema.parse>[0]> = {}, start = 1_000_000) {
  let time = start;
  const changes: [CircuitState, CircuitState][] = [];
  const config = circuitBreakerSchema.parse({ failureThreshold: 100, openMs: 1_000, minRequests: 100, ...overrides });
  const b = new CircuitBreaker(
    { provider: "p", model: "m" },
    config,
    () => time,
    (to, from) => changes.push([to, from]),
  );
  return { breaker: b, changes, advance: (ms: number) => (time += ms) };
}

function refusal(b: CircuitBreaker): ProviderError {
  try {
    b.acquire();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected the circuit to refuse the call");
}

describe("CircuitBreaker refusals", () => {
  it("says when an open circuit lets calls through again", () => {
    const s = breaker();
    s.breaker.trip();
    s.advance(400);
    const error = refusal(s.breaker);
    expect(error.kind).toBe("circuit_open");
    expect(error.message).toBe("p/m: circuit open after repeated failures; calls resume in 600 ms");
    expect(error.retryAfterMs).toBe(600);
  });

  it("says a half-open circuit with every probe running resumes after them, with no retry-after", () => {
    const s = breaker();
    s.breaker.trip();
    s.advance(1_000);
    expect(s.breaker.tryAcquire()).toBeDefined(); // the one probe
    const error = refusal(s.breaker);
    expect(error.message).toBe("p/m: circuit open after repeated failures; calls resume after the running probes");
    expect(error.retryAfterMs).toBeUndefined();
  });

  it("has no retry-after while closed, even early on its clock", () => {
    expect(breaker({}, 100).breaker.retryAfterMs()).toBe(0);
  });
});

describe("CircuitBreaker counting", () => {
  it("counts a permit's outcome once, however often it is reported", () => {
    const s = breaker({ failureThreshold: 2 });
    const permit = s.breaker.acquire();
    permit.report("failure");
    permit.report("failure");
    expect(s.breaker.state).toBe("closed");
  });

  it("opens after failureThreshold consecutive failures", () => {
    const s = breaker({ failureThreshold: 3 });
    for (let i = 0; i < 2; i++) s.breaker.acquire().report("failure");
    expect(s.breaker.state).toBe("closed");
    s.breaker.acquire().report("failure");
    expect(s.breaker.state).toBe("open");
  });

  it("adds a failed probe to the consecutive failures it shows", () => {
    const s = breaker({ failureThreshold: 2 });
    for (let i = 0; i < 2; i++) s.breaker.acquire().report("failure");
    s.advance(1_000);
    s.breaker.acquire().report("failure");
    expect(s.breaker.snapshot()).toMatchObject({ state: "open", consecutiveFailures: 3 });
  });

  it("ignores the outcome of a call let through before the circuit last changed", () => {
    const s = breaker({ failureThreshold: 1 });
    const stale = s.breaker.acquire();
    s.breaker.trip();
    s.advance(1_000);
    s.breaker.acquire().report("success"); // the probe closes it again
    expect(s.breaker.state).toBe("closed");
    stale.report("failure");
    expect(s.breaker.state).toBe("closed");
  });

  it("opens at the error rate over the window, not below it", () => {
    const below = breaker({ errorRate: 0.5, minRequests: 4 });
    for (const outcome of ["success", "success", "success", "failure"] as const)
      below.breaker.acquire().report(outcome);
    expect(below.breaker.state).toBe("closed");
    expect(below.breaker.snapshot().errorRate).toBe(0.25);
    const at = breaker({ errorRate: 0.5, minRequests: 4 });
    for (const outcome of ["success", "failure", "success", "failure"] as const) at.breaker.acquire().report(outcome);
    expect(at.breaker.state).toBe("open");
  });

  it("keeps an outcome exactly windowMs old in the window", () => {
    const s = breaker({ errorRate: 1, minRequests: 2, windowMs: 1_000 });
    s.breaker.acquire().report("failure");
    s.advance(1_000);
    s.breaker.acquire().report("failure");
    expect(s.breaker.state).toBe("open");
  });

  it("forgets every outcome older than the window", () => {
    const s = breaker({ windowMs: 1_000 });
    s.breaker.acquire().report("failure");
    s.advance(5_000);
    expect(s.breaker.snapshot().errorRate).toBe(0);
  });
});

describe("CircuitBreaker state changes", () => {
  it("tells its listener of changes only", () => {
    const s = breaker();
    s.breaker.trip();
    s.breaker.trip();
    expect(s.changes).toEqual([["open", "closed"]]);
  });
});
