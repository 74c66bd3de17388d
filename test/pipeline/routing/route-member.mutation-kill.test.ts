// Kills mutants that survived the routing mutation run of 2026-12-02 in src/pipeline/routing/route-member.ts (see
// docs/mutation/routing-survivors.md): circuitRefusal, which lets a route fail over from an open circuit without
// calling the target. The route's own tests only watched the adapter inside the breaker, which refuses the call
// either way. Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { circuitRefusal } from "../../../src/pipeline/routing/route-member.js";
import { TargetStats } from "../../../src/pipeline/routing/target-stats.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider } from "./route-fake-provider.js";
import { routeMember } from "./route-members.js";

describe("circuitRefusal", () => {
  it("refuses a member whose circuit is open with the breaker's circuit_open error", () => {
    const member = routeMember(RouteFakeProvider.answering("broken"), { breaker: { openMs: 30_000 } });
    member.breaker?.trip();
    const refusal = circuitRefusal(member);
    expect(refusal).toBeInstanceOf(ProviderError);
    expect(refusal).toMatchObject({ kind: "circuit_open", provider: "broken", retryable: false });
    expect(refusal?.message).toContain("circuit open after repeated failures");
  });

  it("lets a member through whose circuit is closed, or that has no breaker", () => {
    const guarded = routeMember(RouteFakeProvider.answering("guarded"));
    expect(circuitRefusal(guarded)).toBeUndefined();
    const plain = RouteFakeProvider.answering("plain");
    expect(circuitRefusal({ provider: plain, model: "m", weight: 1, stats: new TargetStats() })).toBeUndefined();
  });
});
