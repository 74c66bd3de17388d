// Kills mutants that survived `npm run test:mutation` in src/pipeline/compose-pipeline.ts (see
// docs/testing.md, "Mutation testing", and docs/mutation/pipeline-wiring-survivors.md): what composePipeline
// builds, seen from the routes it returns over fake adapters: shared targets (one breaker, one retry budget,
// one entry in ListProviders), the circuit and store listeners, the output limits and the per-client limit's
// estimate, stop. Fixtures are built inside each test.
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseConfigObject } from "../../src/config/load-config.js";
import { type ComposedPipeline, composePipeline } from "../../src/pipeline/compose-pipeline.js";
import type { CircuitState } from "../../src/pipeline/resilience/circuit-breaker.js";
import type { RateLimitStoreState } from "../../src/pipeline/rate-limit/rate-limit-store.js";
import { TokenEstimator } from "../../src/pipeline/rate-limit/tokens/token-estimator.js";
import { CallTrace, type CallContext } from "../../src/providers/call-context.js";
import type { ChatRequest, Provider } from "../../src/providers/provider.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { freePort } from "../support/free-port.js";
import { RouteFakeProvider, routeError } from "./routing/route-fake-provider.js";
import { providerErrorOf } from "../support/provider-error-of.js";

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

/** A config of `providers` (openai, key from the env) and `models`, with `pipeline` as given. */
function configWith(
  providers: Record<string, unknown>[],
  models: Record<string, unknown>[],
  pipeline: Record<string, unknown> = {},
) {
  return parseConfigObject(
    {
      logging: { level: "silent" },
      pipeline,
      providers: providers.map((p) => ({ type: "openai", apiKey: "${KEY}", ...p })),
      models,
    },
    { env: { KEY: "sk-test" } },
  );
}

const request: ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };

/** The context of a call from `clientId`, as the gateway builds it. */
function contextOf(clientId = ""): CallContext {
  return { deadline: undefined, clientId, trace: new CallTrace() };
}

/** The answer's text, or the error's kind. */
async function outcomeOf(pipeline: ComposedPipeline, model: string, chat: Partial<ChatRequest> = {}, clientId = "") {
  const route = pipeline.router.resolve(model).provider;
  return route.chat({ ...request, model, ...chat }, new AbortController().signal, contextOf(clientId)).then(
    (answer) => answer.text,
    (error: unknown) => (error instanceof ProviderError ? error.kind : `not a ProviderError: ${String(error)}`),
  );
}

/** A call left running until `signal` aborts; resolves when it ended, however it did. */
function inFlight(
  pipeline: ComposedPipeline,
  model: string,
  chat: Partial<ChatRequest>,
  clientId: string,
  signal: AbortSignal,
): Promise<unknown> {
  const route = pipeline.router.resolve(model).provider;
  return (async () => route.chat({ ...request, model, ...chat }, signal, contextOf(clientId)))().catch(() => undefined);
}

/** Waits, a turn of the event loop at a time, until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setImmediate(resolve));
}

const pipelines: ComposedPipeline[] = [];
/** composePipeline, stopped after the test. */
function compose(...args: Parameters<typeof composePipeline>): ComposedPipeline {
  const pipeline = composePipeline(...args);
  pipelines.push(pipeline);
  return pipeline;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pipelines.splice(0).map((p) => p.stop()));
});

describe("composePipeline", () => {
  it("refuses a configured provider it was given no adapter for, naming it", () => {
    expect(() => composePipeline(configOf(), new Map())).toThrow("no adapter for provider p");
  });

  it("refuses a model whose target names a provider the config does not have, naming both", () => {
    // parseConfigObject refuses such a config; composePipeline is also given configs built by hand.
    const config = configOf();
    const broken = {
      ...config,
      models: config.models.map((m) => ({ ...m, targets: [{ provider: "nope", model: "x", weight: 1 }] })),
    };
    expect(() => composePipeline(broken, new Map([["p", RouteFakeProvider.answering("p")]]))).toThrow(
      "model m: unknown provider nope",
    );
  });

  it("refuses a model without targets, naming it", () => {
    // parseConfigObject refuses such a config too (targets: at least one).
    const config = configOf();
    const broken = { ...config, models: config.models.map((m) => ({ ...m, targets: [] })) };
    expect(() => composePipeline(broken, new Map([["p", RouteFakeProvider.answering("p")]]))).toThrow(
      "model m: a route needs at least one target",
    );
  });

  it("treats a route call without a context (outside an RPC) as the anonymous client: no per-client limit", async () => {
    const pipeline = compose(
      configOf({ perClient: { requestsPerMinute: 1 } }),
      new Map([["p", RouteFakeProvider.answering("p")]]),
    );
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
  });
});

describe("composePipeline: targets", () => {
  const twoNamesOneTarget = () =>
    configWith(
      [{ name: "p", circuitBreaker: { failureThreshold: 2 } }],
      [
        { name: "a", targets: [{ provider: "p", model: "gpt-4o" }] },
        // The same target, with an output limit of its own: a layer of its own, the same live state.
        { name: "b", targets: [{ provider: "p", model: "gpt-4o", maxOutputTokens: 100 }] },
      ],
      { retry: { maxAttempts: 1 } },
    );

  it("gives a target used by two model names one circuit breaker and one entry in the provider's targets", async () => {
    const changes: string[] = [];
    const pipeline = compose(
      twoNamesOneTarget(),
      new Map([["p", RouteFakeProvider.failing("p", "unavailable")]]),
      undefined,
      (provider: string, model: string, to: CircuitState, from: CircuitState) =>
        changes.push(`${provider} ${model} ${from}->${to}`),
    );
    expect(await outcomeOf(pipeline, "a")).toBe("unavailable");
    expect(await outcomeOf(pipeline, "a")).toBe("unavailable");
    expect(changes).toEqual(["p gpt-4o closed->open"]);
    // Model b's calls go to the same target: its circuit is open for them too.
    const refused = await providerErrorOf(
      pipeline.router.resolve("b").provider.chat({ ...request, model: "b" }, new AbortController().signal, contextOf()),
    );
    expect(refused.kind).toBe("circuit_open");
    expect(refused.provider).toBe("p");
    expect(refused.message).toContain("p/gpt-4o: circuit open");
    expect(pipeline.providers.map((p) => p.targets.map((t) => t.model))).toEqual([["gpt-4o"]]);
  });

  it("keeps apart the targets of two models of one provider", () => {
    const pipeline = compose(
      configWith(
        [{ name: "p" }],
        [
          { name: "a", targets: [{ provider: "p", model: "gpt-4o" }] },
          { name: "b", targets: [{ provider: "p", model: "gpt-4o-mini" }] },
        ],
      ),
      new Map([["p", RouteFakeProvider.answering("p")]]),
    );
    expect(pipeline.providers.map((p) => p.targets.map((t) => t.model))).toEqual([["gpt-4o", "gpt-4o-mini"]]);
  });

  it("opens a circuit without a circuit listener: the call that opens it fails with the provider's error", async () => {
    const pipeline = compose(twoNamesOneTarget(), new Map([["p", RouteFakeProvider.failing("p", "unavailable")]]));
    expect(await outcomeOf(pipeline, "a")).toBe("unavailable");
    expect(await outcomeOf(pipeline, "a")).toBe("unavailable");
    expect(await outcomeOf(pipeline, "a")).toBe("circuit_open");
  });

  it("gives a target used by two model names one retry budget", async () => {
    // Half a retry per request, no floor: one request of each model name earns the one retry b needs.
    const config = configWith(
      [{ name: "p" }],
      [
        { name: "a", targets: [{ provider: "p", model: "gpt-4o" }] },
        { name: "b", targets: [{ provider: "p", model: "gpt-4o" }] },
      ],
      { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, budget: { ratio: 0.5, minPerSecond: 0 } } },
    );
    const p = new RouteFakeProvider("p", (call) =>
      call === 1 ? { error: routeError("p", "unavailable") } : { text: "ok" },
    );
    const pipeline = compose(config, new Map([["p", p]]));
    expect(await outcomeOf(pipeline, "a")).toBe("ok");
    expect(await outcomeOf(pipeline, "b")).toBe("ok");
    expect(p.calls).toHaveLength(3);
  });

  it("keeps each provider's rate limits to itself", async () => {
    const pipeline = compose(
      configWith(
        [
          { name: "p", rateLimit: { requestsPerMinute: 1 } },
          { name: "q", rateLimit: { requestsPerMinute: 1 } },
        ],
        [
          { name: "a", targets: [{ provider: "p", model: "gpt-4o" }] },
          { name: "b", targets: [{ provider: "q", model: "gpt-4o" }] },
        ],
        { rateLimiting: { queue: { maxDepth: 0 } }, retry: { maxAttempts: 1 } },
      ),
      new Map([
        ["p", RouteFakeProvider.answering("p")],
        ["q", RouteFakeProvider.answering("q")],
      ]),
    );
    expect(await outcomeOf(pipeline, "a")).toBe("answer from p");
    expect(await outcomeOf(pipeline, "b")).toBe("answer from q");
  });
});

describe("composePipeline: output limits", () => {
  it("refuses a max_tokens above what every target of the model can return", async () => {
    const p = RouteFakeProvider.answering("p");
    const pipeline = compose(
      configWith(
        [{ name: "p" }, { name: "q" }],
        [
          {
            name: "m",
            targets: [
              { provider: "p", model: "gpt-4o", maxOutputTokens: 10 },
              { provider: "q", model: "gpt-4o", maxOutputTokens: 20 },
            ],
          },
        ],
      ),
      new Map<string, Provider>([
        ["p", p],
        ["q", RouteFakeProvider.answering("q")],
      ]),
    );
    expect(await outcomeOf(pipeline, "m", { maxTokens: 21 })).toBe("invalid_request");
    expect(await outcomeOf(pipeline, "m", { maxTokens: 20 })).toBe("answer from p");
    expect(p.calls).toHaveLength(1);
    // A stream is refused at its first read, as a Provider's stream fails, not by a throw from the call.
    const route = pipeline.router.resolve("m").provider;
    const refused = route.streamChat({ ...request, model: "m", maxTokens: 21 }, new AbortController().signal);
    expect((await providerErrorOf(refused)).kind).toBe("invalid_request");
    expect(p.calls).toHaveLength(1);
  });

  it("passes any max_tokens on when a target of the model has no output limit", async () => {
    const pipeline = compose(
      configWith(
        [{ name: "p" }, { name: "q" }],
        [
          {
            name: "m",
            targets: [
              { provider: "q", model: "gpt-4o" },
              { provider: "p", model: "gpt-4o", maxOutputTokens: 10 },
            ],
          },
        ],
      ),
      new Map([
        ["p", RouteFakeProvider.answering("p")],
        ["q", RouteFakeProvider.answering("q")],
      ]),
    );
    expect(await outcomeOf(pipeline, "m", { maxTokens: 1000 })).toBe("answer from q");
  });

  it("reserves at a target no more output than its own output limit", async () => {
    // p may take 100 tokens a minute and returns at most 10: two calls asking max_tokens 1000 fit at once.
    const p = new RouteFakeProvider("p", (call) => (call === 0 ? { hang: true } : { text: "answer from p" }));
    const pipeline = compose(
      configWith(
        [{ name: "p", rateLimit: { tokensPerMinute: 100 } }, { name: "q" }],
        [
          {
            name: "m",
            targets: [
              { provider: "p", model: "gpt-4o", maxOutputTokens: 10 },
              { provider: "q", model: "gpt-4o" },
            ],
          },
        ],
        { rateLimiting: { queue: { maxDepth: 0 } }, retry: { maxAttempts: 1 } },
      ),
      new Map([
        ["p", p],
        ["q", RouteFakeProvider.answering("q")],
      ]),
    );
    const first = new AbortController();
    const held = inFlight(pipeline, "m", { maxTokens: 1000 }, "", first.signal);
    await until(() => p.calls.length === 1);
    expect(await outcomeOf(pipeline, "m", { maxTokens: 1000 })).toBe("answer from p");
    first.abort();
    await held;
  });

  it("charges a client's window at most the largest output limit of the model's targets", async () => {
    // Without max_tokens a request reserves defaultMaxTokens (1000), unless every target returns less (20
    // here): two calls of the client then fit its 100 tokens a minute at once.
    const p = new RouteFakeProvider("p", (call) => (call === 0 ? { hang: true } : { text: "answer from p" }));
    const pipeline = compose(
      configWith(
        [{ name: "p" }, { name: "q" }],
        [
          {
            name: "m",
            targets: [
              { provider: "p", model: "gpt-4o", maxOutputTokens: 10 },
              { provider: "q", model: "gpt-4o", maxOutputTokens: 20 },
            ],
          },
        ],
        { rateLimiting: { defaultMaxTokens: 1000, perClient: { tokensPerMinute: 100 }, queue: { maxDepth: 0 } } },
      ),
      new Map([
        ["p", p],
        ["q", RouteFakeProvider.answering("q")],
      ]),
    );
    const first = new AbortController();
    const held = inFlight(pipeline, "m", {}, "client-1", first.signal);
    await until(() => p.calls.length === 1);
    expect(await outcomeOf(pipeline, "m", {}, "client-1")).toBe("answer from p");
    first.abort();
    await held;
  });
});

describe("composePipeline: the per-client limit's estimate", () => {
  it("counts a request's tokens with the tokenizer of the model's first target, not the model name", async () => {
    // A prompt that gpt-4o's tokenizer counts as far fewer tokens than the estimate for an unknown model.
    const content = "hello world ".repeat(40);
    const counter = new TokenEstimator({ defaultMaxTokens: 1 });
    const asTarget = await counter.chat({ model: "gpt-4o", messages: [{ role: "user", content }], maxTokens: 1 });
    const asName = await counter.chat({ model: "m", messages: [{ role: "user", content }], maxTokens: 1 });
    const tokens = asTarget.promptTokens + asTarget.outputTokens;
    expect(asName.promptTokens + asName.outputTokens).toBeGreaterThan(tokens);
    const pipeline = compose(
      configWith([{ name: "p" }], [{ name: "m", targets: [{ provider: "p", model: "gpt-4o" }] }], {
        rateLimiting: { perClient: { tokensPerMinute: tokens }, queue: { maxDepth: 0 } },
      }),
      new Map([["p", RouteFakeProvider.answering("p")]]),
    );
    expect(await outcomeOf(pipeline, "m", { messages: [{ role: "user", content }], maxTokens: 1 }, "client-1")).toBe(
      "answer from p",
    );
  });

  it("estimates a request without max_tokens with the configured defaultMaxTokens", async () => {
    const pipeline = compose(configOf({ defaultMaxTokens: 123 }), new Map([["p", RouteFakeProvider.answering("p")]]));
    const estimate = await pipeline.estimator.chat({ ...request, model: "gpt-4o" });
    expect(estimate.outputTokens).toBe(123);
  });
});

describe("composePipeline: the rate-limit store", () => {
  it("tells the store listener when Redis cannot be reached, and reports the state", async () => {
    const changes: RateLimitStoreState[] = [];
    const pipeline = compose(
      configWith(
        [{ name: "p", rateLimit: { requestsPerMinute: 10 } }],
        [{ name: "m", targets: [{ provider: "p", model: "gpt-4o" }] }],
        { rateLimiting: { store: "redis", redisUrl: `redis://127.0.0.1:${await freePort()}`, redisTimeoutMs: 200 } },
      ),
      new Map([["p", RouteFakeProvider.answering("p")]]),
      undefined,
      undefined,
      (state) => changes.push(state),
    );
    expect(await outcomeOf(pipeline, "m")).toBe("answer from p");
    expect(changes).toEqual(["redis-unreachable"]);
    expect(pipeline.storeState).toBe("redis-unreachable");
  });
});

describe("composePipeline: stop", () => {
  it("stops the active health checks", async () => {
    vi.useFakeTimers();
    const p = RouteFakeProvider.answering("p");
    const pipeline = compose(
      configWith(
        [{ name: "p", healthCheck: { model: "probe", intervalMs: 1000 } }],
        [{ name: "m", targets: [{ provider: "p", model: "probe" }] }],
      ),
      new Map([["p", p]]),
    );
    await pipeline.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(p.calls).toHaveLength(1);
    await pipeline.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(p.calls).toHaveLength(1);
  });
});
