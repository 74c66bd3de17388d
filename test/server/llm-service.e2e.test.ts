import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FinishReason, Role, type StreamCompleteResponse } from "../../gen/llm/v1/llm_service_pb.js";
import { chat, collect, grpcJsClients, type JsStreamChunk } from "../support/grpc-js-client.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

let h: Harness;
let js: ReturnType<typeof grpcJsClients>;

beforeAll(async () => {
  h = await startHarness();
  js = grpcJsClients(`127.0.0.1:${h.gateway.port}`);
});
afterAll(async () => {
  js.close();
  await h.close();
});

const hello = [{ role: Role.USER, content: "Say hello" }];
// Emulator: prompt = (2 tokens + 3) + 3 = 8; answer "Echo: Say hello" = 3 tokens.
const cases = [
  { type: "openai", model: models.openai, provider: "openai", answered: "gpt-4o", costMicros: 50n },
  { type: "azure", model: models.azure, provider: "azure-east", answered: "gpt-4o", costMicros: 50n },
  {
    type: "anthropic",
    model: models.anthropic,
    provider: "claude",
    answered: "claude-sonnet-4-20250514",
    costMicros: 69n,
  },
  {
    type: "openai-compatible",
    model: models.compatible,
    provider: "vllm",
    answered: "meta-llama/Llama-3.1-8B-Instruct",
    costMicros: 0n,
  },
] as const;

describe.each(cases)("Chat through $type", ({ type, model, provider, answered, costMicros }) => {
  it("answers a unary chat over gRPC with usage, cost and metadata", async () => {
    const response = await h.grpc.chat({ model, messages: hello });
    expect(response.message?.content).toBe("Echo: Say hello");
    expect(response.message?.role).toBe(Role.ASSISTANT);
    expect(response.finishReason).toBe(FinishReason.STOP);
    expect(response.usage).toMatchObject({ promptTokens: 8, completionTokens: 3, totalTokens: 11, costMicros });
    expect(response.metadata).toMatchObject({
      provider,
      providerType: type,
      model: answered,
      attempts: 1,
      costUnknown: costMicros === 0n,
    });
    expect(response.metadata?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.metadata?.providerRequestId).not.toBe("");
    expect(response.id).not.toBe("");
  });

  it("streams a chat to an independent @grpc/grpc-js client", async () => {
    const chunks = await collect<JsStreamChunk>(
      js.llm.StreamChat({ model, messages: [{ role: "ROLE_USER", content: "one two three four five" }] }),
    );
    const last = chunks[chunks.length - 1];
    expect(chunks.map((c) => c.delta).join("")).toBe("Echo: one two three four five");
    expect(chunks.length).toBeGreaterThanOrEqual(6);
    expect(chunks.slice(0, -1).every((c) => c.usage === null && c.finishReason === "FINISH_REASON_UNSPECIFIED")).toBe(
      true,
    );
    expect(last?.finishReason).toBe("FINISH_REASON_STOP");
    expect(last?.usage).toMatchObject({ promptTokens: 11, completionTokens: 6, totalTokens: 17 });
    expect(last?.metadata).toMatchObject({ provider, providerType: type, model: answered, attempts: 1 });
  });

  it("completes and streams a completion", async () => {
    const unary = await h.grpc.complete({ model, prompt: "Once upon a time" });
    expect(unary.text).toBe("Echo: Once upon a time");
    expect(unary.usage?.completionTokens).toBe(5);
    let text = "";
    let final: StreamCompleteResponse | undefined;
    for await (const chunk of h.grpc.streamComplete({ model, prompt: "Once upon a time", options: { maxTokens: 3 } })) {
      text += chunk.delta;
      if (chunk.usage) final = chunk;
    }
    expect(text).toBe("Echo: Once upon");
    expect(final?.finishReason).toBe(FinishReason.LENGTH);
    expect(final?.usage?.completionTokens).toBe(3);
  });
});

describe("the protocols on one port", () => {
  it("serves the same chat over Connect JSON (HTTP/1.1) and gRPC-Web", async () => {
    const viaConnect = await h.connectJson.chat({ model: models.openai, messages: hello });
    const viaGrpcWeb = await h.grpcWeb.chat({ model: models.openai, messages: hello });
    expect(viaConnect.message?.content).toBe("Echo: Say hello");
    expect(viaGrpcWeb.usage?.totalTokens).toBe(11);
  });

  it("answers plain curl-style Connect JSON", async () => {
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: models.anthropic, messages: [{ role: "ROLE_USER", content: "Say hello" }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await response.json()) as {
      message: { content: string };
      usage: { costMicros: string };
      finishReason: string;
    };
    expect(body.message.content).toBe("Echo: Say hello");
    expect(body.usage.costMicros).toBe("69");
    expect(body.finishReason).toBe("FINISH_REASON_STOP");
  });

  it("answers a unary chat to grpc-js with the same result", async () => {
    const response = await chat(js.llm, {
      model: models.azure,
      messages: [{ role: "ROLE_USER", content: "Say hello" }],
    });
    expect(response).toMatchObject({
      message: { role: "ROLE_ASSISTANT", content: "Echo: Say hello" },
      usage: { costMicros: "50" },
    });
  });
});

describe("Embed and ListModels", () => {
  it("embeds many inputs in order with usage and cost", async () => {
    const response = await h.grpc.embed({
      model: models.embed,
      inputs: ["alpha beta", "gamma", "delta epsilon zeta"],
      dimensions: 16,
    });
    expect(response.embeddings.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(response.embeddings.every((e) => e.values.length === 16)).toBe(true);
    const norm = Math.hypot(...(response.embeddings[0]?.values ?? []));
    expect(norm).toBeCloseTo(1, 4);
    expect(response.usage).toMatchObject({ promptTokens: 6, completionTokens: 0, totalTokens: 6 });
    expect(response.metadata?.costUnknown).toBe(false);
    const again = await h.grpc.embed({ model: models.embed, inputs: ["gamma"], dimensions: 16 });
    expect(again.embeddings[0]?.values).toEqual(response.embeddings[1]?.values);
  });

  it("lists the configured models and their targets", async () => {
    const response = await h.grpc.listModels({});
    expect(response.models.find((m) => m.name === models.azure)?.targets).toEqual([
      expect.objectContaining({ provider: "azure-east", model: "gpt-4o", providerType: "azure" }),
    ]);
  });
});
