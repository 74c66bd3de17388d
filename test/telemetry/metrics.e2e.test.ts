import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { telemetrySchema } from "../../src/config/telemetry-schema.js";
import { Telemetry } from "../../src/telemetry/telemetry.js";
import { OtlpReceiver } from "./support/otlp-receiver.js";
import { clientKey, providerKey, scenarios } from "./support/scenarios.js";
import { startTracedService, type TracedService } from "./support/traced-service.js";

let receiver: OtlpReceiver;
let telemetry: Telemetry;
let service: TracedService;
let scrape: string;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  telemetry = await Telemetry.start({
    config: telemetrySchema.parse({ prometheus: { enabled: true, host: "127.0.0.1", port: 0 }, metricsByTenant: true }),
    env: telemetryEnv({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json" }),
  });
  telemetry.registerGauges({
    queueDepth: () => [{ limiter: "openai-rpm", depth: 3 }],
    circuitStates: () => [
      { provider: "openai", model: "gpt-4o", state: "open" },
      { provider: "claude", model: "claude-sonnet-4-20250514", state: "closed" },
    ],
  });
  service = await startTracedService(telemetry, scenarios);
  const headers = { authorization: `Bearer ${clientKey}` };
  await service.client.chat({ model: "gpt-4o", messages: [{ role: Role.USER, content: "hi" }], metadata: { tenant: "acme" } }, { headers });
  for await (const part of service.client.streamChat({ model: "flaky-stream", messages: [] }, { headers })) void part;
  await service.client.chat({ model: "broken-key", messages: [] }, { headers }).catch(() => undefined);
  const url = telemetry.prometheusUrl;
  if (url === undefined) throw new Error("no Prometheus endpoint");
  scrape = await (await fetch(url)).text();
});
afterAll(async () => {
  await service.close();
  await telemetry.shutdown();
  await receiver.close();
});

/** The value of the one sample line starting with `prefix` (metric name and labels as Prometheus prints them). */
function sample(prefix: string): number | undefined {
  const line = scrape.split("\n").find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("the Prometheus scrape endpoint", () => {
  it("serves gen_ai.client.token.usage with the semantic-convention buckets and attributes", () => {
    expect(scrape).toContain("# TYPE gen_ai_client_token_usage histogram");
    const input = 'gen_ai_client_token_usage_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",llm_gateway_provider="openai",gen_ai_response_model="gpt-4o-2024-08-06",llm_gateway_tenant="acme",gen_ai_token_type="input"';
    expect(sample(input)).toBe(1);
    expect(sample('gen_ai_client_token_usage_sum{gen_ai_operation_name="chat",gen_ai_provider_name="azure.ai.openai"')).toBe(20);
    expect(scrape).toMatch(/gen_ai_client_token_usage_bucket\{[^}]*gen_ai_token_type="output",le="67108864"\} 1/);
  });

  it("serves gen_ai.client.operation.duration per attempt, with error.type on failures", () => {
    expect(scrape).toContain("# TYPE gen_ai_client_operation_duration histogram");
    expect(scrape).toContain('le="81.92"');
    expect(sample('gen_ai_client_operation_duration_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="gpt-4o",llm_gateway_provider="openai",error_type="rate_limited"}')).toBe(1);
    expect(sample('gen_ai_client_operation_duration_count{gen_ai_operation_name="chat",gen_ai_provider_name="vllm",gen_ai_request_model="llama",llm_gateway_provider="vllm",error_type="auth"}')).toBe(1);
    expect(sample('gen_ai_client_operation_time_to_first_chunk_sum{gen_ai_operation_name="chat",gen_ai_provider_name="azure.ai.openai"')).toBeCloseTo(0.19);
  });

  it("counts requests by gRPC status, cost, retries and fallbacks, and the gateway's added latency", () => {
    expect(sample('llm_gateway_requests_total{rpc_method="llm.v1.LLMService/Chat",rpc_status_code="OK"}')).toBe(1);
    expect(sample('llm_gateway_requests_total{rpc_method="llm.v1.LLMService/StreamChat",rpc_status_code="OK"}')).toBe(1);
    expect(sample('llm_gateway_requests_total{rpc_method="llm.v1.LLMService/Chat",rpc_status_code="INTERNAL",llm_gateway_error_kind="auth"}')).toBe(1);
    expect(sample('llm_gateway_cost_total{llm_gateway_provider="openai",llm_gateway_served_model="gpt-4o",llm_gateway_tenant="acme"}')).toBe(425);
    expect(sample('llm_gateway_retries_total{llm_gateway_provider="openai",gen_ai_request_model="gpt-4o",llm_gateway_reason="rate_limited"}')).toBe(1);
    expect(sample('llm_gateway_fallbacks_total{llm_gateway_from_provider="openai",llm_gateway_to_provider="azure-east",llm_gateway_reason="unavailable"}')).toBe(1);
    expect(sample('llm_gateway_added_latency_sum{rpc_method="llm.v1.LLMService/StreamChat"}')).toBeCloseTo(0.17);
    expect(sample('llm_gateway_queue_wait_sum{llm_gateway_limiter="openai-rpm"}')).toBeCloseTo(0.04);
    expect(sample('llm_gateway_request_time_to_first_chunk_sum{rpc_method="llm.v1.LLMService/StreamChat"')).toBeCloseTo(0.62);
  });

  it("reports in-flight requests and the registered queue-depth and circuit-state gauges", () => {
    expect(sample('llm_gateway_requests_in_flight{rpc_method="llm.v1.LLMService/Chat"}')).toBe(0);
    expect(sample('llm_gateway_queue_depth{llm_gateway_limiter="openai-rpm"}')).toBe(3);
    expect(sample('llm_gateway_circuit_state{llm_gateway_provider="openai",gen_ai_request_model="gpt-4o"}')).toBe(2);
    expect(sample('llm_gateway_circuit_state{llm_gateway_provider="claude",gen_ai_request_model="claude-sonnet-4-20250514"}')).toBe(0);
  });

  it("answers 404 off its path and holds no secret", async () => {
    const url = new URL(telemetry.prometheusUrl ?? "");
    expect((await fetch(new URL("/other", url))).status).toBe(404);
    expect(scrape).not.toContain(providerKey);
    expect(scrape).not.toContain(clientKey);
  });
});

describe("OTLP metric export", () => {
  it("pushes the same metrics to the OTLP endpoint", async () => {
    await telemetry.flush();
    const exported = JSON.stringify(receiver.metricBodies);
    for (const name of ["gen_ai.client.token.usage", "gen_ai.client.operation.duration", "llm_gateway.requests", "llm_gateway.cost", "llm_gateway.circuit.state"]) {
      expect(exported).toContain(`"name":"${name}"`);
    }
    expect(exported).not.toContain(providerKey);
    expect(exported).not.toContain(clientKey);
  });
});
