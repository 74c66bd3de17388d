import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { LLMService, Role, type ResponseMetadata, type Usage } from "../../gen/llm/v1/llm_service_pb.js";

/** Where the demo writes its text, as is (it brings its own newlines); stdout in the CLI. */
export type Print = (text: string) => void;

function usageLine(usage: Usage | undefined, metadata: ResponseMetadata | undefined): string {
  if (!usage || !metadata) return "  (no usage)";
  const cost = metadata.costUnknown
    ? "unknown (model has no price)"
    : `$${(Number(usage.costMicros) / 1e6).toFixed(6)} (${usage.costMicros} micro-USD)`;
  return (
    `  usage: ${usage.promptTokens} prompt + ${usage.completionTokens} completion = ${usage.totalTokens} tokens, cost ${cost}\n` +
    `  served by ${metadata.provider} (${metadata.providerType}) model ${metadata.model} in ${metadata.latencyMs} ms, ` +
    `attempts ${metadata.attempts}, request ${metadata.requestId}`
  );
}

/**
 * The demo's client: over gRPC (HTTP/2), one unary chat, one streamed chat per provider type (printed as the
 * chunks arrive), and one embedding, each with its usage and cost.
 */
export async function runDemoClient(gatewayUrl: string, print: Print): Promise<void> {
  const client = createClient(LLMService, createGrpcTransport({ baseUrl: gatewayUrl }));

  const models = await client.listModels({});
  print(
    `Models: ${models.models.map((m) => `${m.name} → ${m.targets.map((t) => `${t.provider}/${t.model}`).join(", ")}`).join("; ")}\n\n`,
  );

  print("Chat (unary) with gpt-4o:\n");
  const chat = await client.chat({
    model: "gpt-4o",
    messages: [
      { role: Role.SYSTEM, content: "You are a terse assistant." },
      { role: Role.USER, content: "What does a gateway add to an LLM call?" },
    ],
    options: { maxTokens: 64 },
    metadata: { tenant: "demo" },
  });
  print(`  answer: ${chat.message?.content ?? ""}\n`);
  print(`${usageLine(chat.usage, chat.metadata)}\n`);

  for (const model of ["claude-sonnet", "gpt-4o-mini", "llama"]) {
    print(`\nChat (streaming) with ${model}:\n`);
    print("  answer: ");
    for await (const chunk of client.streamChat({
      model,
      messages: [{ role: Role.USER, content: "Stream this sentence back one token at a time, please." }],
      options: { maxTokens: 32 },
    })) {
      if (chunk.delta !== "") print(chunk.delta);
      if (chunk.usage) print(`\n${usageLine(chunk.usage, chunk.metadata)}\n`);
    }
  }

  print("\nEmbedding with text-embedding-3-small:\n");
  const embed = await client.embed({
    model: "text-embedding-3-small",
    inputs: ["gRPC gateway", "LLM routing"],
    dimensions: 8,
  });
  for (const e of embed.embeddings) print(`  [${e.index}] ${e.values.map((v) => v.toFixed(3)).join(" ")}\n`);
  print(`${usageLine(embed.usage, embed.metadata)}\n`);
}
