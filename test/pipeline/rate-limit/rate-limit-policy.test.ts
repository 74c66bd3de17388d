import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../../src/emulator/emulator.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { rateLimitContext, rateLimitedTarget, settled } from "./rate-limit-emulator.js";

const signal = (): AbortSignal => new AbortController().signal;
const chat = (content: string, maxTokens?: number): ChatRequest => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content }],
  ...(maxTokens === undefined ? {} : { maxTokens }),
});

describe("withRateLimit: settlement against the emulator", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });
  beforeEach(() => {
    emulator.reset();
    emulator.setFault(undefined);
  });

  it("charges a completed stream its real usage", async () => {
    const { provider, limiter } = rateLimitedTarget(emulator, { limits: { tokensPerMinute: 10_000 } });
    const parts = await collectStream(provider.streamChat(chat("one two three four", 100), signal()));
    const finish = parts.at(-1);
    if (finish?.type !== "finish") throw new Error("no finish part");
    await settled();
    expect((await limiter.headroom()).tokens).toBe(10_000 - finish.usage.totalTokens);
  });

  it("charges a unary call its real usage, and an embedding too", async () => {
    const { provider, limiter } = rateLimitedTarget(emulator, { limits: { tokensPerMinute: 10_000 } });
    const answer = await provider.chat(chat("one two three", 50), signal());
    const vectors = await provider.embed({ model: "text-embedding-3-small", inputs: ["a b c"] }, signal());
    await settled();
    expect((await limiter.headroom()).tokens).toBe(10_000 - answer.usage.totalTokens - vectors.usage.totalTokens);
  });

  it("refunds the tokens of a request the provider rejected (400), keeping the request counted", async () => {
    const { provider, limiter } = rateLimitedTarget(emulator, {
      limits: { requestsPerMinute: 10, tokensPerMinute: 10_000 },
    });
    emulator.setFault({ status: 400 });
    const unary = await providerErrorOf(provider.chat(chat("hello"), signal()));
    const stream = await providerErrorOf(provider.streamChat(chat("hello"), signal()));
    expect([unary.status, stream.status]).toEqual([400, 400]);
    await settled();
    expect(await limiter.headroom()).toMatchObject({ requests: 8, tokens: 10_000 });
  });

  it("charges a stream cut mid-way its prompt and the output it delivered", async () => {
    const { provider, limiter, estimator } = rateLimitedTarget(emulator, { limits: { tokensPerMinute: 10_000 } });
    emulator.setFault({ dropAfterChunks: 3 });
    const request = chat("alpha beta gamma delta epsilon zeta eta theta", 200);
    const parts: string[] = [];
    const error = await providerErrorOf(
      (async function* () {
        for await (const part of provider.streamChat(request, signal())) {
          if (part.type === "delta") parts.push(part.text);
          yield part;
        }
      })(),
    );
    expect(error.kind).toBe("unavailable");
    expect(parts.length).toBe(3);
    const prompt = (await estimator.chat(request)).promptTokens;
    const delivered = Math.max(parts.length, await estimator.text(request.model, parts.join("")));
    await settled();
    expect((await limiter.headroom()).tokens).toBe(10_000 - prompt - delivered);
  });

  it("charges a stream its consumer abandoned for what was delivered, and aborts the upstream call", async () => {
    const { provider, limiter, estimator } = rateLimitedTarget(emulator, { limits: { tokensPerMinute: 10_000 } });
    emulator.setFault({ chunkDelayMs: 20 });
    const request = chat("one two three four five six seven eight nine ten", 500);
    let first = "";
    for await (const part of provider.streamChat(request, signal())) {
      if (part.type === "delta") {
        first = part.text;
        break;
      }
    }
    await emulator.records[0]?.done;
    expect(emulator.records[0]?.aborted).toBe(true);
    const prompt = (await estimator.chat(request)).promptTokens;
    await settled();
    expect((await limiter.headroom()).tokens).toBe(
      10_000 - prompt - Math.max(1, await estimator.text(request.model, first)),
    );
  });

  it("records the wait of a queued call in its trace", async () => {
    const { provider } = rateLimitedTarget(emulator, { limits: { requestsPerMinute: 1 }, windowMs: 200 });
    await provider.chat(chat("first"), signal());
    const context = rateLimitContext();
    const parts = await collectStream(provider.streamChat(chat("second"), signal(), context));
    expect(streamedText(parts)).toBe("Echo: second");
    expect(context.trace.events).toMatchObject([{ type: "queued", limiter: "target:openai-test" }]);
  });
});
