// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/route-fallback.ts (see
// docs/testing.md, "Mutation testing").
import { describe, expect, it } from "vitest";
import {
  routeExhaustedError,
  shouldFallBack,
  type RouteFailure,
} from "../../../src/pipeline/routing/route-fallback.js";
import { detachedContext } from "../../../src/providers/call-context.js";
import { ProviderError, type ProviderErrorKind } from "../../../src/providers/provider-error.js";

const live = (): AbortSignal => new AbortController().signal;
const failure = (provider: string, kind: ProviderErrorKind, retryAfterMs?: number): RouteFailure => ({
  provider,
  model: "m",
  error: new ProviderError({
    kind,
    provider,
    message: `${provider} said ${kind}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  }),
});

describe("routeExhaustedError", () => {
  it("fails a route that could try no target as unavailable, by the gateway", () => {
    const error = routeExhaustedError("smart", []);
    expect(error.kind).toBe("unavailable");
    expect(error.provider).toBe("");
    expect(error.message).toBe('model "smart": no target could be tried');
  });

  it("passes a single failure on as it is", () => {
    const only = failure("a", "unavailable");
    expect(routeExhaustedError("smart", [only])).toBe(only.error);
  });

  it("chooses the last real failure over an open circuit that reopens sooner", () => {
    const error = routeExhaustedError("smart", [
      failure("a", "unavailable", 1_000),
      failure("b", "rate_limited", 9_000),
      failure("c", "unavailable", 500),
      failure("d", "circuit_open", 100),
    ]);
    expect(error.provider).toBe("c");
    expect(error.message).toBe(
      'model "smart": 4 targets failed (a/m: unavailable, b/m: rate_limited, c/m: unavailable, d/m: circuit_open); c said unavailable',
    );
  });

  it("when every circuit was open, chooses the one that reopens first", () => {
    const error = routeExhaustedError("smart", [
      failure("a", "circuit_open", 5_000),
      failure("b", "circuit_open", 100),
      failure("c", "circuit_open", 2_000),
    ]);
    expect(error.provider).toBe("b");
    expect(error.retryAfterMs).toBe(100);
  });
});

describe("shouldFallBack and the caller's deadline", () => {
  const error = new ProviderError({ kind: "unavailable", provider: "a", message: "down", retryable: true });

  it("falls back while the deadline is ahead", () => {
    expect(shouldFallBack(error, ["retryable"], live(), { ...detachedContext(), deadline: 2_000 }, () => 1_999)).toBe(
      true,
    );
  });

  it("does not fall back once the deadline is reached", () => {
    expect(shouldFallBack(error, ["retryable"], live(), { ...detachedContext(), deadline: 2_000 }, () => 2_000)).toBe(
      false,
    );
  });
});
