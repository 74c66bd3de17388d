// Kills mutants that survived `npm run test:mutation` in src/pipeline/gateway.ts (see docs/testing.md,
// "Mutation testing"): the ledger's operation and status, key checks, a key's own limits, and a stream that
// ends without its finish part or whose consumer stops reading, the served metadata, and whom a failed stream
// is billed to (docs/mutation/pipeline-wiring-survivors.md). A Gateway over in-memory cost control and a route
// of fakes (or composePipeline's routes over fake adapters); fixtures are built inside each test.
import { describe, expect, it, vi } from "vitest";
import type { ApiKeyRecord } from "../../src/auth/api-key.js";
import type { GatewayConfig } from "../../src/config/config-schema.js";
import { parseConfigObject } from "../../src/config/load-config.js";
import { composePipeline } from "../../src/pipeline/compose-pipeline.js";
import { rateLimitingSchema } from "../../src/config/pipeline-schema.js";
import { withAttemptRecording } from "../../src/pipeline/observe/attempt-recorder.js";
import { ClientRateLimiter } from "../../src/pipeline/rate-limit/client-rate-limiter.js";
import { Gateway, type GatewayCall, gatewayParts } from "../../src/pipeline/gateway.js";
import { ModelRouter } from "../../src/pipeline/routing/model-router.js";
import { withRateLimit } from "../../src/pipeline/rate-limit/rate-limit-policy.js";
import { createRateLimitStore } from "../../src/pipeline/rate-limit/rate-limit-store.js";
import { TokenEstimator } from "../../src/pipeline/rate-limit/tokens/token-estimator.js";
import { CallTrace } from "../../src/providers/call-context.js";
import type { Provider, StreamPart } from "../../src/providers/provider.js";
import type { ProviderError } from "../../src/providers/provider-error.js";
import { BudgetBook } from "../../src/usage/budget-book.js";
import { CostControl } from "../../src/usage/cost-control.js";
import type { LedgerRecord } from "../../src/usage/ledger-record.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { RouteFakeProvider, routeError } from "./routing/route-fake-provider.js";
import { providerErrorOf } from "../support/provider-error-of.js";

function keyOf(fields: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: "key_a",
    secretHash: "h",
    secretPrefix: "p",
    tenant: "acme",
    name: "svc",
    models: [],
    budget: undefined,
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    createdAt: 0,
    revokedAt: undefined,
    ...fields,
  };
}

interface Setup {
  gateway: Gateway;
  costs: CostControl;
  records: LedgerRecord[];
  ended: string[];
}

/**
 * A gateway with one model, "m", served by `provider` as compose-pipeline wraps a route: attempts recorded,
 * per-client limits (none configured: only a key's own) applied.
 */
function setup(provider: Provider = RouteFakeProvider.answering("p")): Setup {
  const records: LedgerRecord[] = [];
  const ended: string[] = [];
  const estimator = new TokenEstimator({ defaultMaxTokens: 100 });
  const costs = new CostControl({
    book: new BudgetBook({ maxWaitMs: 0 }),
    prices: new PriceTable(),
    estimator,
    defaultMaxTokens: new Map(),
    tenantBudget: () => undefined,
    record: (record) => records.push(record),
    ended: (model, status) => ended.push(`${model} ${status}`),
  });
  const limiting = rateLimitingSchema.parse({});
  const clients = new ClientRateLimiter({ config: limiting, store: createRateLimitStore(limiting) });
  const route = withRateLimit(
    withAttemptRecording(provider),
    { acquire: (estimate, signal, context) => clients.acquire(context?.clientId ?? "", estimate, signal, context) },
    estimator,
  );
  const router = new ModelRouter([
    { name: "m", provider: route, targets: [{ provider: provider.name, providerType: provider.type, model: "p-1" }] },
  ]);
  return { gateway: new Gateway(router, costs), costs, records, ended };
}

function callOf(key?: ApiKeyRecord): GatewayCall {
  return {
    requestId: "req-1",
    signal: new AbortController().signal,
    metadata: {},
    deadline: undefined,
    clientId: key?.id ?? "",
    caller: { keyId: key?.id ?? "", tenant: key?.tenant ?? "", key },
    trace: new CallTrace(),
  };
}

/** A chat stream of model "m" read until it fails: the texts delivered and the error. */
async function failedStream(gateway: Gateway): Promise<{ texts: string[]; error: ProviderError }> {
  const texts: string[] = [];
  const error = await providerErrorOf(
    (async () => {
      const request = { messages: [{ role: "user" as const, content: "hi" }] };
      for await (const part of gateway.streamChat("m", request, callOf(), gatewayParts))
        if (part.type === "delta") texts.push(part.text);
    })(),
  );
  return { texts, error };
}

describe("Gateway: the ledger's operation", () => {
  it("records a text completion, a streamed one and embeddings as such", async () => {
    const s = setup();
    await s.gateway.complete("m", { prompt: "hi" }, callOf());
    for await (const _part of s.gateway.streamComplete("m", { prompt: "hi" }, callOf(), gatewayParts)) {
      // read to the end
    }
    await s.gateway.embed("m", { inputs: ["hi"] }, callOf());
    await s.costs.drain();
    expect(s.records.map((record) => `${record.operation} ${record.stream}`)).toEqual([
      "text_completion false",
      "text_completion true",
      "embeddings false",
    ]);
  });
});

describe("Gateway: a request's ending", () => {
  it("counts a failure that is not a provider's as internal", async () => {
    const broken: Provider = {
      name: "broken",
      type: "openai",
      chat: () => Promise.reject(new TypeError("a bug")),
      complete: () => Promise.reject(new TypeError("a bug")),
      embed: () => Promise.reject(new TypeError("a bug")),
      streamChat: () => {
        throw new TypeError("a bug");
      },
      streamComplete: () => {
        throw new TypeError("a bug");
      },
    };
    const s = setup(broken);
    await expect(s.gateway.chat("m", { messages: [{ role: "user", content: "hi" }] }, callOf())).rejects.toThrow(
      TypeError,
    );
    await s.costs.drain();
    expect(s.ended).toEqual(["m internal"]);
  });

  it("fails a stream that ends without its finish part as unavailable, naming the model", async () => {
    async function* silent(): AsyncGenerator<StreamPart> {
      yield { type: "delta", text: "partial" };
    }
    const unused = (): never => {
      throw new Error("not used");
    };
    const s = setup({
      name: "p",
      type: "openai",
      chat: unused,
      complete: unused,
      embed: unused,
      streamChat: silent,
      streamComplete: silent,
    });
    const { texts, error } = await failedStream(s.gateway);
    expect(texts).toEqual(["partial"]);
    expect(error).toMatchObject({ kind: "unavailable", provider: "m", message: "m: stream ended before it completed" });
    await s.costs.drain();
    expect(s.ended).toEqual(["m unavailable"]);
  });
});

describe("Gateway: client keys", () => {
  it("refuses a key a model it may not use, as permission_denied from the gateway itself", async () => {
    const s = setup();
    const error = await providerErrorOf(
      s.gateway.chat("m", { messages: [{ role: "user", content: "hi" }] }, callOf(keyOf({ models: ["other"] }))),
    );
    expect(error).toMatchObject({
      kind: "permission_denied",
      provider: "",
      message: 'key key_a may not use model "m"',
    });
  });

  it("enforces a key's own token limit", async () => {
    const s = setup();
    const key = keyOf({ tokensPerMinute: 12 });
    const request = { messages: [{ role: "user" as const, content: "hi" }] };
    await s.gateway.chat("m", request, callOf(key));
    const error = await providerErrorOf(s.gateway.chat("m", request, callOf(key)));
    expect(error.kind).toBe("queue_full");
  });
});

describe("Gateway: a stream its consumer stops reading", () => {
  it("is recorded as cancelled", async () => {
    const s = setup(RouteFakeProvider.answering("p", "one two three"));
    for await (const part of s.gateway.streamChat(
      "m",
      { messages: [{ role: "user", content: "hi" }] },
      callOf(),
      gatewayParts,
    )) {
      expect(part).toEqual({ type: "delta", text: "one" });
      break;
    }
    await s.costs.drain();
    expect(s.ended).toEqual(["m cancelled"]);
    expect(s.records.map((record) => record.status)).toEqual(["cancelled"]);
  });
});

describe("Gateway: metadata", () => {
  it("names the route's own provider and type when the route lists no targets", async () => {
    const s = setup();
    const route = RouteFakeProvider.answering("bare", "hello", "anthropic");
    const gateway = new Gateway(new ModelRouter([{ name: "m", provider: route, targets: [] }]), s.costs);
    const answer = await gateway.chat("m", { messages: [{ role: "user", content: "hi" }] }, callOf());
    expect(answer.metadata).toMatchObject({ provider: "bare", providerType: "anthropic" });
  });

  it("reports the latency of the call by the gateway's clock", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    try {
      // A clock that has run a while, so that a sum of two readings is not their difference.
      vi.advanceTimersByTime(5000);
      const s = setup(new RouteFakeProvider("p", () => ({ text: "late", delayMs: 250 })));
      const answer = s.gateway.chat("m", { messages: [{ role: "user", content: "hi" }] }, callOf());
      await vi.advanceTimersByTimeAsync(250);
      expect((await answer).metadata.latencyMs).toBe(250);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** A gateway over composePipeline's routes for `config`, with in-memory cost control. */
function composedSetup(config: GatewayConfig, adapters: ReadonlyMap<string, Provider>) {
  const records: LedgerRecord[] = [];
  const pipeline = composePipeline(config, adapters);
  const costs = new CostControl({
    book: new BudgetBook({ maxWaitMs: 0 }),
    prices: new PriceTable(),
    estimator: pipeline.estimator,
    defaultMaxTokens: new Map(),
    tenantBudget: () => undefined,
    record: (record) => records.push(record),
    ended: () => undefined,
  });
  return { gateway: new Gateway(pipeline.router, costs), costs, records, pipeline };
}

function twoTargetConfig(routing: Record<string, unknown> = {}): GatewayConfig {
  return parseConfigObject(
    {
      logging: { level: "silent" },
      pipeline: { retry: { maxAttempts: 1 } },
      providers: [
        { name: "a", type: "openai", apiKey: "${KEY}" },
        { name: "b", type: "anthropic", apiKey: "${KEY}" },
      ],
      models: [
        {
          name: "m",
          routing,
          targets: [
            { provider: "a", model: "gpt-4o" },
            { provider: "b", model: "claude-3-5-haiku" },
          ],
        },
      ],
    },
    { env: { KEY: "sk-test" } },
  );
}

describe("Gateway over a composed pipeline", () => {
  it("reports the type of the target that served, not the route's first", async () => {
    const s = composedSetup(
      twoTargetConfig(),
      new Map<string, Provider>([
        ["a", RouteFakeProvider.failing("a", "unavailable")],
        ["b", RouteFakeProvider.answering("b", "hello", "anthropic")],
      ]),
    );
    try {
      const answer = await s.gateway.chat("m", { messages: [{ role: "user", content: "hi" }] }, callOf());
      expect(answer.metadata).toMatchObject({ provider: "b", providerType: "anthropic", model: "claude-3-5-haiku" });
    } finally {
      await s.pipeline.stop();
    }
  });

  it("bills a failed stream to the last target it tried, not to the one that delivered its text", async () => {
    const s = composedSetup(
      twoTargetConfig({ midStream: "continue" }),
      new Map<string, Provider>([
        [
          "a",
          new RouteFakeProvider("a", () => ({
            text: "Hello there",
            errorAfterChunks: 1,
            error: routeError("a", "unavailable"),
          })),
        ],
        ["b", RouteFakeProvider.failing("b", "unavailable", "anthropic")],
      ]),
    );
    try {
      const { texts, error } = await failedStream(s.gateway);
      expect(texts).toEqual(["Hello"]);
      expect(error.kind).toBe("unavailable");
      await s.costs.drain();
      expect(s.records.map((r) => `${r.status} ${r.provider} ${r.providerModel}`)).toEqual([
        "unavailable b claude-3-5-haiku",
      ]);
    } finally {
      await s.pipeline.stop();
    }
  });
});
