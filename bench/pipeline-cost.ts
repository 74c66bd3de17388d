// The pipeline's own CPU, in process: the composed route of a two-target model (per-client and provider
// limits, least-latency routing, retries, breakers, attempt records, time limits) over a fake adapter that
// answers at once, with no server, HTTP or SDK around it. It isolates what the gateway's policies cost per
// unary call and per streamed part, which the full benchmark (`npm run bench`) cannot separate from the
// server, the SDK and the emulator. Interleaved rounds, the median reported; compare two builds in one sitting.
//
//   npm run build && node dist/bench/pipeline-cost.js
import { configSchema } from "../src/config/config-schema.js";
import { Secret } from "../src/config/secret.js";
import { composePipeline } from "../src/pipeline/compose-pipeline.js";
import { CallTrace } from "../src/providers/call-context.js";
import type { ChatRequest, GenerationResult, Provider, StreamPart, TokenUsage } from "../src/providers/provider.js";

const partsPerStream = 64;
const usage: TokenUsage = {
  promptTokens: 10,
  completionTokens: partsPerStream,
  totalTokens: 10 + partsPerStream,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
};

/** An adapter that answers every call at once: 64 one-word deltas and a finish for a stream. */
function instantAdapter(name: string): Provider {
  const unsupported = (): never => {
    throw new Error("not used by this benchmark");
  };
  return {
    name,
    type: "openai",
    chat: async (request): Promise<GenerationResult> => ({
      id: "cmpl",
      text: "hello",
      finishReason: "stop",
      usage,
      model: request.model,
      providerRequestId: "req",
    }),
    async *streamChat(request): AsyncGenerator<StreamPart> {
      for (let i = 0; i < partsPerStream; i++) yield { type: "delta", text: "word " };
      yield { type: "finish", id: "cmpl", finishReason: "stop", usage, model: request.model, providerRequestId: "req" };
    },
    complete: unsupported,
    streamComplete: unsupported,
    embed: unsupported,
  };
}

const target = (name: string) => ({
  name,
  type: "openai",
  apiKey: new Secret(`sk-${name}`),
  rateLimit: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 },
  timeouts: { firstTokenMs: 10_000, idleMs: 10_000, totalMs: 60_000 },
});

const config = configSchema.parse({
  providers: [target("a"), target("b")],
  models: [
    {
      name: "m",
      targets: [
        { provider: "a", model: "gpt-4o" },
        { provider: "b", model: "gpt-4o" },
      ],
      routing: { strategy: "least-latency" },
    },
  ],
  pipeline: { rateLimiting: { perClient: { requestsPerMinute: 1e9, tokensPerMinute: 1e12 } } },
});

const pipeline = composePipeline(
  config,
  new Map([
    ["a", instantAdapter("a")],
    ["b", instantAdapter("b")],
  ]),
);
await pipeline.start();
const route = pipeline.router.resolve("m").provider;
const request: ChatRequest = { model: "m", messages: [{ role: "user", content: "hello there" }], maxTokens: 64 };
const context = () => ({ deadline: undefined, clientId: "bench", trace: new CallTrace() });

async function stream(): Promise<void> {
  for await (const _part of route.streamChat(request, new AbortController().signal, context())) {
    // relay nothing: the pipeline's own cost is what is measured
  }
}

async function unary(): Promise<void> {
  await route.chat(request, new AbortController().signal, context());
}

/** Microseconds of this process's CPU per call of `run`, after a warm-up. */
async function cpuMicrosPer(run: () => Promise<void>, calls: number): Promise<number> {
  for (let i = 0; i < 200; i++) await run();
  const start = process.cpuUsage();
  for (let i = 0; i < calls; i++) await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / calls;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
const streams: number[] = [];
const unaries: number[] = [];
for (let round = 0; round < 5; round++) {
  streams.push(await cpuMicrosPer(stream, 2_000));
  unaries.push(await cpuMicrosPer(unary, 4_000));
}
await pipeline.stop();
const perStream = median(streams);
console.log(
  JSON.stringify({
    unaryCallMicros: Number(median(unaries).toFixed(1)),
    streamMicros: Number(perStream.toFixed(1)),
    streamPartMicros: Number((perStream / (partsPerStream + 1)).toFixed(2)),
    rounds: { stream: streams.map(Math.round), unary: unaries.map(Math.round) },
  }),
);
