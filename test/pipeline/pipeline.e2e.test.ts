import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { CircuitState, HealthState, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { startHarness, type Harness } from "../support/gateway-harness.js";

const retry = { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, budget: { ratio: 1, minPerSecond: 100 } };
const claude = { provider: "claude", model: "claude-sonnet-4-20250514" };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    // Breakers stay closed here so that tests do not depend on each other's failures; the breaker test has its own.
    providerDefaults: {
      timeouts: { firstTokenMs: 400 },
      circuitBreaker: { failureThreshold: 1000, minRequests: 1000 },
    },
    pipeline: { retry },
    extraModels: [
      {
        name: "chain",
        targets: [{ provider: "openai", model: "gpt-4o" }, { provider: "azure-east", model: "gpt-4o" }, claude],
      },
      {
        name: "cut-error",
        routing: { midStream: "error" },
        targets: [{ provider: "azure-east", model: "gpt-4o" }, claude],
      },
      {
        name: "cut-continue",
        routing: { midStream: "continue" },
        targets: [{ provider: "azure-east", model: "gpt-4o" }, claude],
      },
      { name: "no-fallback", targets: [{ provider: "openai", model: "gpt-4o" }, claude] },
    ],
  });
});
afterEach(() => {
  h.emulator.setFault(undefined);
  h.emulator.reset();
});
afterAll(() => h.close());

const words = "one two three four five six seven eight nine ten";

async function stream(model: string): Promise<{ text: string; error: ConnectError | undefined; provider: string }> {
  let text = "";
  let provider = "";
  try {
    for await (const chunk of h.grpc.streamChat({ model, messages: [{ role: Role.USER, content: words }] })) {
      text += chunk.delta;
      if (chunk.metadata) provider = chunk.metadata.provider;
    }
    return { text, error: undefined, provider };
  } catch (error) {
    return { text, error: ConnectError.from(error), provider };
  }
}

describe("the resilience pipeline through the gateway", () => {
  it("completes on the third target when the first answers 429 with retry-after and the second hangs", async () => {
    h.emulator.setFault((request) =>
      request.api === "openai"
        ? { status: 429, retryAfterMs: 30 }
        : request.api === "azure"
          ? { hang: true }
          : undefined,
    );
    const response = await h.grpc.chat({ model: "chain", messages: [{ role: Role.USER, content: "Say hello" }] });
    expect(response.message?.content).toBe("Echo: Say hello");
    expect(response.metadata).toMatchObject({ provider: "claude", attempts: 5 });
    const byApi = h.emulator.records.map((r) => [
      r.request.api,
      r.status === 0 ? (r.aborted ? "aborted" : "pending") : r.status,
    ]);
    expect(byApi).toEqual([
      ["openai", 429],
      ["openai", 429],
      ["azure", "aborted"],
      ["azure", "aborted"],
      ["anthropic", 200],
    ]);
  });

  it("does not fall back on the caller's own error", async () => {
    h.emulator.setFault((request) => (request.api === "openai" ? { status: 400 } : undefined));
    const rejected = await h.grpc.chat({ model: "no-fallback", messages: [{ role: Role.USER, content: "x" }] }).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(rejected?.code).toBe(Code.InvalidArgument);
    expect(h.emulator.records.map((r) => r.request.api)).toEqual(["openai"]);
  });

  it("ends a stream cut after 5 chunks with an explicit UNAVAILABLE naming what was delivered (midStream: error)", async () => {
    h.emulator.setFault((request) => (request.api === "azure" ? { dropAfterChunks: 5 } : undefined));
    const { text, error } = await stream("cut-error");
    expect(error?.code).toBe(Code.Unavailable);
    expect(error?.rawMessage).toMatch(/after 5 chunks/);
    expect(text.length).toBeGreaterThan(0);
    expect(`Echo: ${words}`.startsWith(text)).toBe(true);
  });

  it("continues a stream cut after 5 chunks on the next target, the answer delivered exactly once (midStream: continue)", async () => {
    h.emulator.setFault((request) => (request.api === "azure" ? { dropAfterChunks: 5 } : undefined));
    const { text, error, provider } = await stream("cut-continue");
    expect(error).toBeUndefined();
    expect(text).toBe(`Echo: ${words}`);
    expect(provider).toBe("claude");
    const anthropicRequest = h.emulator.records.find((r) => r.request.api === "anthropic")?.request.body as {
      messages: { role: string }[];
    };
    expect(anthropicRequest.messages.at(-1)?.role).toBe("assistant");
  });

  it("opens a target's circuit after repeated failures and shows it in ListProviders", async () => {
    const own = await startHarness({
      providerDefaults: { circuitBreaker: { failureThreshold: 3, openMs: 60_000 } },
      pipeline: { retry },
      extraModels: [{ name: "pair", targets: [{ provider: "openai", model: "gpt-4o" }, claude] }],
      emulator: { fault: (request) => (request.api === "openai" ? { status: 500 } : undefined) },
    });
    try {
      for (let i = 0; i < 2; i++) await own.grpc.chat({ model: "pair", messages: [{ role: Role.USER, content: "x" }] });
      const before = own.emulator.records.filter((r) => r.request.api === "openai").length;
      expect(before).toBe(3);
      const answer = await own.grpc.chat({ model: "pair", messages: [{ role: Role.USER, content: "x" }] });
      expect(answer.metadata?.provider).toBe("claude");
      expect(own.emulator.records.filter((r) => r.request.api === "openai").length).toBe(before);
      const { providers } = await own.grpc.listProviders({});
      expect(providers.find((p) => p.name === "openai")?.targets.find((t) => t.model === "gpt-4o")?.circuitState).toBe(
        CircuitState.OPEN,
      );
      const claudeTarget = providers.find((p) => p.name === "claude")?.targets[0];
      expect(claudeTarget).toMatchObject({ circuitState: CircuitState.CLOSED, inFlight: 0 });
      expect(claudeTarget?.latencyEwmaMs).toBeGreaterThan(0);
    } finally {
      await own.close();
    }
  });
});

describe("active health checks", () => {
  it("publish a failing provider as NOT_SERVING in grpc.health.v1 and UNHEALTHY in ListProviders, and route around it", async () => {
    const own = await startHarness({
      providerDefaults: { healthCheck: { model: "gpt-4o", intervalMs: 50, timeoutMs: 500 } },
      extraModels: [
        { name: "pair", routing: { fallbackOn: [] }, targets: [{ provider: "openai", model: "gpt-4o" }, claude] },
      ],
      emulator: { fault: (request) => (request.api === "openai" ? { status: 500 } : undefined) },
    });
    try {
      const health = createClient(Health, createGrpcTransport({ baseUrl: own.gateway.url }));
      const deadline = Date.now() + 5_000;
      while ((await health.check({ service: "openai" })).status !== Status.NOT_SERVING && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect((await health.check({ service: "openai" })).status).toBe(Status.NOT_SERVING);
      expect((await health.check({ service: "claude" })).status).toBe(Status.SERVING);
      const { providers } = await own.grpc.listProviders({});
      expect(providers.find((p) => p.name === "openai")).toMatchObject({ health: HealthState.UNHEALTHY });
      expect(providers.find((p) => p.name === "openai")?.healthDetail).not.toBe("");
      // Without fallback triggers, only the first target chosen serves: the unhealthy one is not chosen first.
      const answer = await own.grpc.chat({ model: "pair", messages: [{ role: Role.USER, content: "x" }] });
      expect(answer.metadata?.provider).toBe("claude");
    } finally {
      await own.close();
    }
  });
});
