// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/model-router.ts (see docs/testing.md,
// "Mutation testing").
import { describe, expect, it } from "vitest";
import { ModelRouter } from "../../../src/pipeline/routing/model-router.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

describe("ModelRouter", () => {
  it("fails an unknown model as not_found from the gateway itself, naming no provider", () => {
    const router = new ModelRouter([]);
    let error: unknown;
    try {
      router.resolve("nope");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "not_found", provider: "" });
  });
});
