import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FinishReason, LLMService, Role, type ResponseMetadata, type Usage } from "../../gen/llm/v1/llm_service_pb.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * README, top: "gRPC (HTTP/2), gRPC-Web and Connect (JSON or binary, HTTP/1.1 or HTTP/2) on one port"; "Every
 * answer carries the same usage block (prompt, completion and total tokens, cost in integer micro-dollars) and
 * the same metadata (provider, model that answered, latency, attempts, request ids), whichever vendor served
 * it"; "Configuration": `pricing.models` "wins over the shipped table"; "Routing": `routing.strategy` and
 * `clientOverrides`, read from the config.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    prices: {
      // The README's own example line: a model the shipped table does not price.
      "meta-llama/Llama-3.1-8B-Instruct": { input: 0.05, output: 0.08 },
      // A price the shipped table has (2.5 / 10), overridden.
      "gpt-4o": { input: 5, output: 20 },
    },
    extraModels: [
      {
        name: "spread",
        routing: { strategy: "round-robin" },
        targets: [
          { provider: "openai", model: "gpt-4o" },
          { provider: "azure-east", model: "gpt-4o" },
        ],
      },
    ],
  });
});
afterEach(() => {
  h.emulator.setFault(undefined);
  h.emulator.reset();
});
afterAll(() => h.close());

const hello = [{ role: Role.USER, content: "Say hello" }];

describe("the protocols on one port", () => {
  const protocols: [string, () => Client<typeof LLMService>][] = [
    ["gRPC, HTTP/2", () => createClient(LLMService, createGrpcTransport({ baseUrl: h.gateway.url }))],
    [
      "gRPC-Web, HTTP/1.1",
      () => createClient(LLMService, createGrpcWebTransport({ baseUrl: h.gateway.url, httpVersion: "1.1" })),
    ],
    [
      "gRPC-Web, HTTP/2",
      () => createClient(LLMService, createGrpcWebTransport({ baseUrl: h.gateway.url, httpVersion: "2" })),
    ],
    [
      "Connect JSON, HTTP/1.1",
      () =>
        createClient(
          LLMService,
          createConnectTransport({ baseUrl: h.gateway.url, httpVersion: "1.1", useBinaryFormat: false }),
        ),
    ],
    [
      "Connect JSON, HTTP/2",
      () =>
        createClient(
          LLMService,
          createConnectTransport({ baseUrl: h.gateway.url, httpVersion: "2", useBinaryFormat: false }),
        ),
    ],
    [
      "Connect binary, HTTP/1.1",
      () =>
        createClient(
          LLMService,
          createConnectTransport({ baseUrl: h.gateway.url, httpVersion: "1.1", useBinaryFormat: true }),
        ),
    ],
    [
      "Connect binary, HTTP/2",
      () =>
        createClient(
          LLMService,
          createConnectTransport({ baseUrl: h.gateway.url, httpVersion: "2", useBinaryFormat: true }),
        ),
    ],
  ];

  it.each(protocols)("%s: a unary chat and a streamed chat", async (_name, client) => {
    const llm = client();
    const answer = await llm.chat({ model: models.anthropic, messages: hello });
    expect(answer.message?.content).toBe("Echo: Say hello");
    expect(answer.usage).toMatchObject({ promptTokens: 8, completionTokens: 3, totalTokens: 11, costMicros: 69n });
    let text = "";
    let finish: FinishReason | undefined;
    for await (const chunk of llm.streamChat({
      model: models.anthropic,
      messages: [{ role: Role.USER, content: "one two three" }],
    })) {
      text += chunk.delta;
      if (chunk.usage) finish = chunk.finishReason;
    }
    expect(text).toBe("Echo: one two three");
    expect(finish).toBe(FinishReason.STOP);
  });
});

describe("the same usage block and metadata on every answer", () => {
  const cases = [
    { type: "openai", model: models.openai, provider: "openai", answered: "gpt-4o" },
    { type: "azure", model: models.azure, provider: "azure-east", answered: "gpt-4o" },
    { type: "anthropic", model: models.anthropic, provider: "claude", answered: "claude-sonnet-4-20250514" },
    {
      type: "openai-compatible",
      model: models.compatible,
      provider: "vllm",
      answered: "meta-llama/Llama-3.1-8B-Instruct",
    },
  ] as const;

  function expectCarried(
    usage: Usage | undefined,
    metadata: ResponseMetadata | undefined,
    expected: { type: string; provider: string; answered: string },
  ): void {
    expect(usage?.promptTokens).toBeGreaterThan(0);
    expect(usage?.totalTokens).toBe((usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0));
    expect(usage?.costMicros).toBeGreaterThan(0n);
    expect(metadata).toMatchObject({
      provider: expected.provider,
      providerType: expected.type,
      model: expected.answered,
      attempts: 1,
      costUnknown: false,
    });
    // The emulator holds every answer's headers back 40 ms: the latency reported covers it.
    expect(metadata?.latencyMs).toBeGreaterThanOrEqual(40);
    expect(metadata?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata?.providerRequestId).not.toBe("");
  }

  it.each(cases)("$type: Chat, StreamChat, Complete and StreamComplete", async (c) => {
    h.emulator.setFault({ latencyMs: 40 });
    const chat = await h.grpc.chat({ model: c.model, messages: hello });
    expectCarried(chat.usage, chat.metadata, c);
    const completion = await h.grpc.complete({ model: c.model, prompt: "Once upon a time" });
    expectCarried(completion.usage, completion.metadata, c);
    for (const stream of [
      h.grpc.streamChat({ model: c.model, messages: hello }),
      h.grpc.streamComplete({ model: c.model, prompt: "Once upon a time" }),
    ]) {
      const finals = [];
      for await (const chunk of stream) if (chunk.usage || chunk.metadata) finals.push(chunk);
      expect(finals).toHaveLength(1);
      expectCarried(finals[0]?.usage, finals[0]?.metadata, c);
    }
  });

  it("Embed", async () => {
    h.emulator.setFault({ latencyMs: 40 });
    // 100 tokens at $0.02 per million: 2 µ$.
    const embedding = await h.grpc.embed({
      model: models.embed,
      inputs: [Array.from({ length: 100 }, (_, i) => `w${i}`).join(" ")],
    });
    expectCarried(embedding.usage, embedding.metadata, {
      type: "openai",
      provider: "openai",
      answered: "text-embedding-3-small",
    });
    expect(embedding.usage).toMatchObject({ promptTokens: 100, completionTokens: 0, costMicros: 2n });
  });
});

describe("configured prices (README: Configuration, pricing.models)", () => {
  it("win over the shipped table and price a model the table does not know", async () => {
    // 8 prompt and 3 completion tokens. gpt-4o at the configured $5 / $20 per million: 40 + 60 = 100 µ$ (the
    // shipped $2.50 / $10 would be 50).
    const openai = await h.grpc.chat({ model: models.openai, messages: hello });
    expect(openai.usage?.costMicros).toBe(100n);
    // Llama at $0.05 / $0.08: 0.4 + 0.24 = 0.64 µ$, rounded half up to 1 µ$, and no longer cost_unknown.
    const llama = await h.grpc.chat({ model: models.compatible, messages: hello });
    expect(llama.usage?.costMicros).toBe(1n);
    expect(llama.metadata?.costUnknown).toBe(false);
  });
});

describe("routing.strategy from the config (README: Routing)", () => {
  it("round-robin spreads calls over the model's targets in turn", async () => {
    const providers: string[] = [];
    for (let i = 0; i < 4; i++)
      providers.push((await h.grpc.chat({ model: "spread", messages: hello })).metadata?.provider ?? "");
    expect(new Set([providers[0], providers[1]])).toEqual(new Set(["openai", "azure-east"]));
    expect(providers.slice(2)).toEqual(providers.slice(0, 2));
  });
});

describe("per-client limits with clientOverrides (README: Routing, retries, limits and health)", () => {
  it("gives a client named in clientOverrides its own limit instead of perClient", async () => {
    const own = await startHarness({
      pipeline: {
        rateLimiting: {
          perClient: { requestsPerMinute: 1 },
          clientOverrides: { "batch-jobs": { requestsPerMinute: 3 } },
        },
      },
    });
    try {
      const as = (client: string) => ({ headers: { "x-client-id": client }, timeoutMs: 1_000 });
      const outcome = (client: string) =>
        own.grpc.chat({ model: models.openai, messages: hello }, as(client)).then(
          () => "ok",
          (e: unknown) => ConnectError.from(e).code,
        );
      const batch = [
        await outcome("batch-jobs"),
        await outcome("batch-jobs"),
        await outcome("batch-jobs"),
        await outcome("batch-jobs"),
      ];
      expect(batch).toEqual(["ok", "ok", "ok", Code.ResourceExhausted]);
      expect([await outcome("team-x"), await outcome("team-x")]).toEqual(["ok", Code.ResourceExhausted]);
    } finally {
      await own.close();
    }
  });
});
