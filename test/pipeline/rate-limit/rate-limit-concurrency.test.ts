import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../../src/emulator/emulator.js";
import type { CallContext } from "../../../src/providers/call-context.js";
import type { ChatRequest, Provider, StreamPart } from "../../../src/providers/provider.js";
import { rateLimitContext, rateLimitedTarget, settled } from "./rate-limit-emulator.js";

/** One upstream call as the provider saw it: when it started and the tokens it really used. */
interface UpstreamCall {
  startedAt: number;
  totalTokens: number;
}

/** Wraps the adapter to record every stream that reaches the provider and the usage it reported. */
function recordingStreams(adapter: Provider, calls: UpstreamCall[]): Provider {
  return {
    name: adapter.name,
    type: adapter.type,
    chat: (request, signal, context) => adapter.chat(request, signal, context),
    complete: (request, signal, context) => adapter.complete(request, signal, context),
    embed: (request, signal, context) => adapter.embed(request, signal, context),
    streamComplete: (request, signal, context) => adapter.streamComplete(request, signal, context),
    async *streamChat(request: ChatRequest, signal: AbortSignal, context?: CallContext): AsyncGenerator<StreamPart> {
      const call: UpstreamCall = { startedAt: Date.now(), totalTokens: 0 };
      calls.push(call);
      for await (const part of adapter.streamChat(request, signal, context)) {
        if (part.type === "finish") call.totalTokens = part.usage.totalTokens;
        yield part;
      }
    },
  };
}

const words = [
  "alpha",
  "bravo",
  "charlie",
  "delta",
  "echo",
  "foxtrot",
  "golf",
  "hotel",
  "india",
  "juliet",
  "kilo",
  "lima",
];

describe("TPM held exactly under 32 concurrent streaming clients", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ chunkDelayMs: 2 });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("never lets the tokens of any window exceed the limit, and settles every stream", async () => {
    const windowMs = 1000;
    const tokensPerWindow = 600;
    const calls: UpstreamCall[] = [];
    const { provider, limiter } = rateLimitedTarget(emulator, {
      limits: { tokensPerMinute: tokensPerWindow },
      windowMs,
      queue: { maxDepth: 64, maxWaitMs: 30_000 },
      wrap: (adapter) => recordingStreams(adapter, calls),
    });
    const contexts: CallContext[] = [];
    const client = async (id: number): Promise<void> => {
      for (let round = 0; round < 2; round++) {
        const content = Array.from({ length: 10 }, (_, i) => words[(id + round + i) % words.length]).join(" ");
        const context = rateLimitContext();
        contexts.push(context);
        let finished = false;
        for await (const part of provider.streamChat(
          { model: "gpt-4o-mini", messages: [{ role: "user", content }], maxTokens: 11 },
          new AbortController().signal,
          context,
        )) {
          if (part.type === "finish") finished = true;
        }
        expect(finished).toBe(true);
      }
    };
    await Promise.all(Array.from({ length: 32 }, (_, id) => client(id)));
    await settled();

    // 64 streams of 10 + 3 + 3 prompt and 11 output tokens each: 1728 tokens, about three windows' worth.
    expect(calls).toHaveLength(64);
    expect(calls.every((call) => call.totalTokens === 27)).toBe(true);
    const total = calls.reduce((sum, call) => sum + call.totalTokens, 0);
    expect(total).toBeGreaterThan(2 * tokensPerWindow);
    // A call's start is recorded when the adapter runs, which on a busy machine can lag the moment the limiter
    // admitted it by a scheduling delay, moving an early admission into a later window: the check uses windows
    // shorter by that slack. A burst across a window boundary (a fixed window's 2× at its edge) still fails it.
    const slackMs = 200;
    for (const call of calls) {
      const inWindow = calls.filter(
        (other) => other.startedAt >= call.startedAt && other.startedAt < call.startedAt + windowMs - slackMs,
      );
      expect(inWindow.reduce((sum, other) => sum + other.totalTokens, 0)).toBeLessThanOrEqual(tokensPerWindow);
    }
    expect(
      contexts.filter((context) => context.trace.events.some((event) => event.type === "queued")).length,
    ).toBeGreaterThan(0);
    const windowUse = tokensPerWindow - ((await limiter.headroom()).tokens ?? 0);
    const lastWindow = calls.filter((call) => call.startedAt > Date.now() - windowMs);
    expect(windowUse).toBeGreaterThanOrEqual(lastWindow.reduce((sum, call) => sum + call.totalTokens, 0));
  });
});
