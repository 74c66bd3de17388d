import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { chatPromptTokens, countTokens } from "../../src/emulator/emulator-tokens.js";
import { models, testKey, wrongKey } from "../support/gateway-harness.js";
import { Scrape } from "./support/prometheus-scrape.js";
import {
  azureTtftMs,
  clientKey,
  costMicros,
  eventually,
  flakyFaults,
  gpt4oPrice,
  primerHoldMs,
  startTelemetryGateway,
  telemetryModels,
  type TelemetryGateway,
} from "./support/telemetry-gateway.js";

const outcome = (call: Promise<unknown>): Promise<ConnectError | undefined> =>
  call.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("the gateway's metrics after a cached chat, a queued, retried and fallen-back stream and a rejected key", () => {
  let g: TelemetryGateway;
  let before: Scrape;
  let scrape: string;
  let metrics: Scrape;
  const headers = { authorization: `Bearer ${clientKey}` };
  const cachedChat = { content: "please remember this rather long question about caching", cached: 8 };
  const cachedPrompt = chatPromptTokens([cachedChat.content]);
  const cachedCompletion = countTokens(`Echo: ${cachedChat.content}`);
  const flakyQuestion = "What is 2+2?";
  const flakyPrompt = chatPromptTokens([flakyQuestion]);
  const flakyCompletion = countTokens(`Echo: ${flakyQuestion}`);

  beforeAll(async () => {
    g = await startTelemetryGateway({
      telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 }, metricsByTenant: true },
      // Two failures in a row open a target's circuit.
      providerDefaults: { circuitBreaker: { failureThreshold: 2 } },
      otelEnv: {
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "RECEIVER/v1/metrics",
        OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json",
        OTEL_METRIC_EXPORT_INTERVAL: "100",
      },
    });
    const faults = flakyFaults();
    g.h.emulator.setFault((request) =>
      request.api === "openai" && request.model === "gpt-4o" && JSON.stringify(request.body).includes("caching")
        ? { cachedTokens: cachedChat.cached }
        : faults(request),
    );
    await g.h.grpc.chat(
      {
        model: models.openai,
        messages: [{ role: Role.USER, content: cachedChat.content }],
        metadata: { tenant: "acme" },
      },
      { headers },
    );
    before = await Scrape.of(g.prometheusUrl());
    expect(
      (
        await outcome(
          g.h.grpc.chat({ model: telemetryModels.primer, messages: [{ role: Role.USER, content: "hi" }] }, { headers }),
        )
      )?.code,
    ).toBe(Code.ResourceExhausted);
    for await (const part of g.h.grpc.streamChat(
      { model: telemetryModels.ha, messages: [{ role: Role.USER, content: flakyQuestion }] },
      { headers },
    ))
      void part;
    expect(
      (
        await outcome(
          g.h.grpc.chat({ model: models.wrongKey, messages: [{ role: Role.USER, content: "hi" }] }, { headers }),
        )
      )?.code,
    ).toBe(Code.Internal);
    metrics = await Scrape.of(g.prometheusUrl());
    scrape = metrics.text;
  });
  afterAll(() => g.close());

  const openaiAttempt = (port: number) => ({
    gen_ai_operation_name: "chat",
    gen_ai_provider_name: "openai",
    gen_ai_request_model: "gpt-4o",
    llm_gateway_provider: "openai",
    server_address: "127.0.0.1",
    server_port: String(port),
  });

  it("serves gen_ai.client.token.usage with the semantic-convention buckets and attributes", () => {
    expect(scrape).toContain("# TYPE gen_ai_client_token_usage histogram");
    const cachedInput = {
      ...openaiAttempt(g.h.emulator.port),
      gen_ai_response_model: "gpt-4o",
      llm_gateway_tenant: "acme",
      gen_ai_token_type: "input",
    };
    expect(metrics.value("gen_ai_client_token_usage_count", cachedInput)).toBe(1);
    expect(metrics.value("gen_ai_client_token_usage_sum", cachedInput)).toBe(cachedPrompt);
    const azure = {
      gen_ai_operation_name: "chat",
      gen_ai_provider_name: "azure.ai.openai",
      llm_gateway_provider: "azure-east",
    };
    expect(metrics.value("gen_ai_client_token_usage_sum", { ...azure, gen_ai_token_type: "input" })).toBe(flakyPrompt);
    expect(metrics.value("gen_ai_client_token_usage_sum", { ...azure, gen_ai_token_type: "output" })).toBe(
      flakyCompletion,
    );
    // Semantic-convention buckets: the answer's 4 tokens fall in (1, 4].
    expect(flakyCompletion).toBe(4);
    expect(metrics.value("gen_ai_client_token_usage_bucket", { ...azure, gen_ai_token_type: "output", le: "1" })).toBe(
      0,
    );
    expect(metrics.value("gen_ai_client_token_usage_bucket", { ...azure, gen_ai_token_type: "output", le: "4" })).toBe(
      1,
    );
    expect(
      metrics.value("gen_ai_client_token_usage_bucket", { ...azure, gen_ai_token_type: "output", le: "67108864" }),
    ).toBe(1);
  });

  it("serves gen_ai.client.operation.duration per attempt, with error.type on failures", () => {
    expect(scrape).toContain("# TYPE gen_ai_client_operation_duration histogram");
    expect(metrics.all("gen_ai_client_operation_duration_bucket", { le: "81.92" }).length).toBeGreaterThan(0);
    const openai = openaiAttempt(g.h.emulator.port);
    expect(metrics.value("gen_ai_client_operation_duration_count", { ...openai, error_type: "rate_limited" })).toBe(1);
    expect(metrics.value("gen_ai_client_operation_duration_count", { ...openai, error_type: "unavailable" })).toBe(1);
    expect(
      metrics.value("gen_ai_client_operation_duration_count", {
        llm_gateway_provider: "openai-misconfigured",
        error_type: "auth",
      }),
    ).toBe(1);
    const azureFirstChunk =
      metrics.value("gen_ai_client_operation_time_to_first_chunk_sum", { gen_ai_provider_name: "azure.ai.openai" }) ??
      0;
    expect(azureFirstChunk).toBeGreaterThanOrEqual(azureTtftMs / 1000);
    expect(azureFirstChunk).toBeLessThan(3);
  });

  it("counts requests by gRPC status, cost, retries and fallbacks, and the gateway's added latency", () => {
    expect(
      metrics.value("llm_gateway_requests_total", { rpc_method: "llm.v1.LLMService/Chat", rpc_status_code: "OK" }),
    ).toBe(1);
    expect(
      metrics.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/StreamChat",
        rpc_status_code: "OK",
      }),
    ).toBe(1);
    expect(
      metrics.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/Chat",
        rpc_status_code: "INTERNAL",
        llm_gateway_error_kind: "auth",
      }),
    ).toBe(1);
    expect(
      metrics.value("llm_gateway_requests_total", {
        rpc_method: "llm.v1.LLMService/Chat",
        rpc_status_code: "RESOURCE_EXHAUSTED",
        llm_gateway_error_kind: "rate_limited",
      }),
    ).toBe(1);
    // The cached chat: fresh prompt tokens at gpt-4o's input price, 8 cached at its cached-input price, output at its output price.
    const cachedCost = costMicros(gpt4oPrice, {
      promptTokens: cachedPrompt,
      cachedPromptTokens: cachedChat.cached,
      completionTokens: cachedCompletion,
    });
    expect(
      metrics.value("llm_gateway_cost_total", {
        llm_gateway_provider: "openai",
        llm_gateway_served_model: "gpt-4o",
        llm_gateway_tenant: "acme",
      }),
    ).toBe(cachedCost);
    const flakyCost = costMicros(gpt4oPrice, {
      promptTokens: flakyPrompt,
      cachedPromptTokens: 0,
      completionTokens: flakyCompletion,
    });
    expect(
      metrics.value("llm_gateway_cost_total", {
        llm_gateway_provider: "azure-east",
        llm_gateway_served_model: "gpt-4o",
      }),
    ).toBe(flakyCost);
    expect(
      metrics.value("llm_gateway_retries_total", {
        llm_gateway_provider: "openai",
        gen_ai_request_model: "gpt-4o",
        llm_gateway_reason: "rate_limited",
      }),
    ).toBe(1);
    expect(
      metrics.value("llm_gateway_fallbacks_total", {
        llm_gateway_from_provider: "openai",
        llm_gateway_to_provider: "azure-east",
        llm_gateway_reason: "unavailable",
      }),
    ).toBe(1);
    // The stream waited in OpenAI's queue for what was left of the primer's hold: gateway time, not provider time.
    expect(metrics.value("llm_gateway_queue_wait_count", { llm_gateway_limiter: "target:openai" })).toBe(1);
    const waited = metrics.value("llm_gateway_queue_wait_sum", { llm_gateway_limiter: "target:openai" }) ?? 0;
    expect(waited).toBeGreaterThan(0);
    expect(waited).toBeLessThanOrEqual((primerHoldMs + 1_000) / 1000);
    expect(
      metrics.value("llm_gateway_added_latency_sum", { rpc_method: "llm.v1.LLMService/StreamChat" }),
    ).toBeGreaterThanOrEqual(waited);
    expect(
      metrics.value("llm_gateway_request_time_to_first_chunk_sum", { rpc_method: "llm.v1.LLMService/StreamChat" }),
    ).toBeGreaterThanOrEqual(waited + azureTtftMs / 1000);
  });

  it("reports in-flight requests, and the circuit-state gauge of each target: gpt-4o on OpenAI opened by the stream's two failures", () => {
    expect(metrics.value("llm_gateway_requests_in_flight", { rpc_method: "llm.v1.LLMService/Chat" })).toBe(0);
    expect(metrics.value("llm_gateway_requests_in_flight", { rpc_method: "llm.v1.LLMService/StreamChat" })).toBe(0);
    const circuit = (provider: string, model: string) => ({
      llm_gateway_provider: provider,
      gen_ai_request_model: model,
    });
    expect(before.value("llm_gateway_circuit_state", circuit("openai", "gpt-4o"))).toBe(0);
    expect(metrics.value("llm_gateway_circuit_state", circuit("openai", "gpt-4o"))).toBe(2);
    expect(metrics.value("llm_gateway_circuit_state", circuit("azure-east", "gpt-4o"))).toBe(0);
    expect(metrics.value("llm_gateway_circuit_state", circuit("claude", "claude-sonnet-4-20250514"))).toBe(0);
    // One failure is not two: the primer's target stays closed.
    expect(metrics.value("llm_gateway_circuit_state", circuit("openai", "gpt-4o-mini"))).toBe(0);
    // Every provider's limiter reports its (empty) queue.
    expect(metrics.all("llm_gateway_queue_depth").map((s) => [s.labels["llm_gateway_limiter"], s.value])).toEqual(
      expect.arrayContaining([
        ["target:openai", 0],
        ["target:azure-east", 0],
        ["target:claude", 0],
        ["target:vllm", 0],
        ["target:openai-misconfigured", 0],
      ]),
    );
  });

  it("answers 404 off its path and holds no secret", async () => {
    expect((await fetch(new URL("/other", g.prometheusUrl()))).status).toBe(404);
    for (const secret of [testKey, wrongKey, wrongKey.slice(0, 8), clientKey]) expect(scrape).not.toContain(secret);
  });

  it("pushes the same metrics to the OTLP endpoint", async () => {
    const names = [
      "gen_ai.client.token.usage",
      "gen_ai.client.operation.duration",
      "llm_gateway.requests",
      "llm_gateway.cost",
      "llm_gateway.circuit.state",
      "llm_gateway.queue.depth",
    ];
    const exported = await eventually("the metrics over OTLP", () => {
      const text = JSON.stringify(g.receiver.metricBodies);
      return names.every((name) => text.includes(`"name":"${name}"`)) ? text : undefined;
    });
    for (const secret of [testKey, wrongKey, clientKey]) expect(exported).not.toContain(secret);
  });
});

describe("the queue-depth and circuit-state gauges, live", () => {
  let g: TelemetryGateway;

  beforeAll(async () => {
    g = await startTelemetryGateway({
      telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
      // One request per minute per provider, and a queue that waits minutes; one failure opens a circuit for 1 s.
      providerDefaults: { rateLimit: { requestsPerMinute: 1 }, circuitBreaker: { failureThreshold: 1, openMs: 1_000 } },
      pipeline: { retry: { maxAttempts: 1 }, rateLimiting: { queue: { maxWaitMs: 300_000 } } },
      otelEnv: {},
    });
  });
  afterAll(() => g.close());

  const scrape = (): Promise<Scrape> => Scrape.of(g.prometheusUrl());

  it("shows requests waiting in a provider's queue while its limit is spent, and none once they are gone", async () => {
    const messages = [{ role: Role.USER, content: "hi" }];
    await g.h.grpc.chat({ model: models.azure, messages });
    expect((await scrape()).value("llm_gateway_queue_depth", { llm_gateway_limiter: "target:azure-east" })).toBe(0);
    const controller = new AbortController();
    const waiting = [1, 2].map(() =>
      outcome(g.h.grpc.chat({ model: models.azure, messages }, { signal: controller.signal })),
    );
    const full = await eventually("two requests in Azure's queue", async () => {
      const s = await scrape();
      return s.value("llm_gateway_queue_depth", { llm_gateway_limiter: "target:azure-east" }) === 2 ? s : undefined;
    });
    // Only Azure's limiter holds anyone.
    expect(full.value("llm_gateway_queue_depth", { llm_gateway_limiter: "target:openai" })).toBe(0);
    expect(full.value("llm_gateway_queue_depth", { llm_gateway_limiter: "target:claude" })).toBe(0);
    controller.abort();
    expect((await Promise.all(waiting)).map((e) => e?.code)).toEqual([Code.Canceled, Code.Canceled]);
    await eventually("Azure's queue empty again", async () =>
      (await scrape()).value("llm_gateway_queue_depth", { llm_gateway_limiter: "target:azure-east" }) === 0
        ? true
        : undefined,
    );
    expect(g.h.emulator.records.filter((r) => r.request.api === "azure")).toHaveLength(1);
  });

  it("shows a target's circuit closed, open after a failure, then half-open once its open time passed", async () => {
    const circuit = { llm_gateway_provider: "openai", gen_ai_request_model: "gpt-4o" };
    const embeddings = { llm_gateway_provider: "openai", gen_ai_request_model: "text-embedding-3-small" };
    expect((await scrape()).value("llm_gateway_circuit_state", circuit)).toBe(0);
    g.h.emulator.setFault((request) => (request.api === "openai" ? { status: 500 } : undefined));
    const failed = await outcome(
      g.h.grpc.chat({ model: models.openai, messages: [{ role: Role.USER, content: "hi" }] }),
    );
    expect(failed?.code).toBe(Code.Unavailable);
    const open = await scrape();
    expect(open.value("llm_gateway_circuit_state", circuit)).toBe(2);
    // Another model of the same provider has its own circuit.
    expect(open.value("llm_gateway_circuit_state", embeddings)).toBe(0);
    await eventually("the circuit half-open", async () =>
      (await scrape()).value("llm_gateway_circuit_state", circuit) === 1 ? true : undefined,
    );
  });
});
