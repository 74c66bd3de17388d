// Kills mutants that survived `npm run test:mutation` in src/pipeline/compose-pipeline.ts (see
// docs/testing.md, "Mutation testing"). Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { parseConfigObject } from "../../src/config/load-config.js";
import { composePipeline } from "../../src/pipeline/compose-pipeline.js";
import type { ChatRequest } from "../../src/providers/provider.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { RouteFakeProvider } from "./routing/route-fake-provider.js";

function configOf(rateLimiting: Record<string, unknown> = {}) {
  return parseConfigObject(
    {
      logging: { level: "silent" },
      pipeline: { rateLimiting },
      providers: [{ name: "p", type: "openai", apiKey: "${KEY}" }],
      models: [{ name: "m", targets: [{ provider: "p", model: "gpt-4o" }] }],
    },
    { env: { KEY: "sk-test" } },
  );
}

const request: ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };

describe("composePipeline", () => {
  it("refuses a configured provider it was given no adapter for, naming it", () => {
    expect(() => composePipeline(configOf(), new Map())).toThrow("no adapter for provider p");
  });

  it("treats a route call without a context (outside an RPC) as the anonymous client: no per-client limit", async () => {
    const pipeline = composePipeline(
      configOf({ perClient: { requestsPerMinute: 1 } }),
      new Map([["p", RouteFakeProvider.answering("p")]]),
    );
    try {
      const route = pipeline.router.resolve("m").provider;
      const outcomes: string[] = [];
      for (let i = 0; i < 2; i++) {
        outcomes.push(
          await route.chat(request, new AbortController().signal).then(
            (answer) => answer.text,
            (error: unknown) => (error instanceof ProviderError ? error.kind : String(error)),
          ),
        );
      }
      expect(outcomes).toEqual(["answer from p", "answer from p"]);
    } finally {
      await pipeline.stop();
    }
  });
});
