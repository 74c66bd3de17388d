// Kills mutants that survived `npm run test:mutation` in src/pipeline/observe/attempt-recorder.ts (see
// docs/testing.md, "Mutation testing"). Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { withAttemptRecording } from "../../../src/pipeline/observe/attempt-recorder.js";
import { type CallContext, detachedContext } from "../../../src/providers/call-context.js";
import type {
  ChatRequest,
  CompletionRequest,
  Provider,
  StreamPart,
  TokenUsage,
} from "../../../src/providers/provider.js";
import { BudgetBook } from "../../../src/usage/budget-book.js";
import { CallAccount } from "../../../src/usage/call-account.js";
import type { LedgerRecord } from "../../../src/usage/ledger-record.js";
import { PriceTable } from "../../../src/usage/price-table.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { scriptedProvider } from "../resilience/retry-fake-provider.js";

const request: ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };
const completion: CompletionRequest = { model: "m", prompt: "hi" };
const live = (): AbortSignal => new AbortController().signal;

/** A provider whose calls fail with an error that is not a ProviderError (a bug, say). */
function brokenProvider(): Provider {
  const fail = (): never => {
    throw new TypeError("cannot read properties of undefined");
  };
  return {
    name: "broken",
    type: "openai",
    chat: async () => fail(),
    // biome-ignore lint/correctness/useYield: the stream fails before its first part
    streamChat: async function* (): AsyncGenerator<StreamPart> {
      fail();
    },
    complete: async () => fail(),
    // biome-ignore lint/correctness/useYield: the stream fails before its first part
    streamComplete: async function* (): AsyncGenerator<StreamPart> {
      fail();
    },
    embed: async () => fail(),
  };
}

describe("withAttemptRecording", () => {
  it("records an error that is not a provider's as internal, without its message", async () => {
    const context = detachedContext();
    await expect(withAttemptRecording(brokenProvider()).chat(request, live(), context)).rejects.toThrow(TypeError);
    expect(context.trace.attemptRecords()[0]?.error).toEqual({ kind: "internal", message: "internal error" });
  });

  it("passes a stream through when the call has no context", async () => {
    const parts: StreamPart[] = [];
    for await (const part of withAttemptRecording(scriptedProvider([{ deltas: ["a", "b"] }])).streamChat(
      request,
      live(),
    ))
      parts.push(part);
    expect(parts.map((part) => part.type)).toEqual(["delta", "delta", "finish"]);
  });

  it("records a stream the consumer stopped reading as cancelled, and says so", async () => {
    const context = detachedContext();
    const stream = withAttemptRecording(scriptedProvider([{ deltas: ["a", "b"] }])).streamChat(
      request,
      live(),
      context,
    );
    for await (const part of stream) {
      expect(part.type).toBe("delta");
      break;
    }
    expect(context.trace.attemptRecords()[0]?.error).toEqual({
      kind: "cancelled",
      message: "the consumer stopped reading",
    });
  });
});

describe("withAttemptRecording: whether an attempt was streamed", () => {
  it("records a text completion as not streamed, a streamed one as streamed, and embeddings as not streamed", async () => {
    const context = detachedContext();
    const provider = withAttemptRecording(scriptedProvider([{}]));
    await provider.complete(completion, live(), context);
    for await (const _part of provider.streamComplete(completion, live(), context)) {
      // read to the end
    }
    await provider.embed({ model: "m", inputs: ["a"] }, live(), context);
    expect(context.trace.attemptRecords().map((record) => `${record.operation} ${record.stream}`)).toEqual([
      "text_completion false",
      "text_completion true",
      "embeddings false",
    ]);
  });
});

const noUsage: TokenUsage = {
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
};

/** A provider whose streams send `deltas`, then a finish part with `usage`. */
function streamingProvider(deltas: readonly string[], usage: TokenUsage): Provider {
  const unused = (): never => {
    throw new Error("not streamed");
  };
  const stream = async function* (): AsyncGenerator<StreamPart> {
    for (const text of deltas) yield { type: "delta", text };
    yield { type: "finish", id: "r", finishReason: "stop", usage, model: "gpt-4o" };
  };
  return {
    name: "openai-main",
    type: "openai",
    chat: async (request) => ({ id: "r", text: "ok", finishReason: "stop", usage, model: request.model }),
    streamChat: stream,
    complete: async () => unused(),
    streamComplete: stream,
    embed: async () => unused(),
  };
}

/**
 * A context whose call is billed by a real CallAccount: its ledger record is what the recorder's bills come
 * to. The account counts delivered text as one token per character and notes each text it is asked to count.
 */
async function billedContext(options: { limitMicros?: number; maxTokens: number; promptTokens: number }): Promise<{
  context: CallContext;
  account: CallAccount;
  records: LedgerRecord[];
  counted: string[];
}> {
  const book = new BudgetBook({ maxWaitMs: 0, now: () => 1_000 });
  const hold = await book.reserve(
    [
      {
        scope: "key:key_a",
        kind: "key",
        tenant: "acme",
        keyId: "key_a",
        label: "key key_a",
        budget: options.limitMicros === undefined ? undefined : { limitMicros: options.limitMicros, period: "total" },
      },
    ],
    0,
    live(),
    undefined,
  );
  const records: LedgerRecord[] = [];
  const counted: string[] = [];
  const account = new CallAccount(
    {
      prices: new PriceTable(),
      countText: async (_model, text) => {
        counted.push(text);
        return text.length;
      },
      record: (record) => records.push(record),
    },
    {
      requestId: "req-1",
      tenant: "acme",
      keyId: "key_a",
      model: "gpt-4o",
      operation: "chat",
      stream: true,
      startedAt: 1_000,
    },
    hold,
    options.promptTokens,
    options.maxTokens,
    live(),
    undefined,
  );
  return { context: { ...detachedContext(), account }, account, records, counted };
}

async function readAll(stream: AsyncIterable<StreamPart>): Promise<void> {
  for await (const _part of stream) {
    // read to the end
  }
}

describe("withAttemptRecording: billing through the call's account", () => {
  const chat: ChatRequest = { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] };

  it("bills a stream that finished without usage by the text it delivered, estimated", async () => {
    const { context, account, records } = await billedContext({ maxTokens: 100, promptTokens: 3 });
    await readAll(
      withAttemptRecording(streamingProvider(["Hello", ", world"], { ...noUsage, missing: true })).streamChat(
        chat,
        live(),
        context,
      ),
    );
    await account.finish({ status: "ok", servedBy: undefined });
    // The prompt estimate plus one token per delivered character ("Hello, world": 12).
    expect(records[0]?.attempts[0]).toMatchObject({
      billed: true,
      estimated: true,
      usage: { promptTokens: 3, completionTokens: 12, totalTokens: 15 },
    });
  });

  it("spends no token count on the delivered text of a stream whose finish reported its usage", async () => {
    const { context, account, records, counted } = await billedContext({ maxTokens: 100, promptTokens: 3 });
    const usage = { ...noUsage, promptTokens: 7, completionTokens: 2, totalTokens: 9 };
    await readAll(
      withAttemptRecording(streamingProvider(["Hello", ", world"], usage)).streamChat(chat, live(), context),
    );
    await account.finish({ status: "ok", servedBy: undefined });
    expect(records[0]?.attempts[0]).toMatchObject({ billed: true, estimated: false, usage });
    expect(counted).toEqual([]);
  });

  it("holds the budget for the attempt's own max_tokens (a continuation asks for fewer than the call)", async () => {
    // The call may produce 100 000 tokens (with its 3 prompt tokens about 1 $ at gpt-4o's prices: over the
    // 1 000 µ$ budget); this attempt asks for 10 (about 108 µ$), so it fits and goes ahead.
    const { context } = await billedContext({ limitMicros: 1_000, maxTokens: 100_000, promptTokens: 3 });
    const provider = withAttemptRecording(streamingProvider([], noUsage));
    await expect(provider.chat({ ...chat, maxTokens: 10 }, live(), context)).resolves.toMatchObject({ text: "ok" });
    // And the same call asking for all of it is refused before reaching the provider.
    const { context: full } = await billedContext({ limitMicros: 1_000, maxTokens: 100_000, promptTokens: 3 });
    expect((await providerErrorOf(provider.chat({ ...chat, maxTokens: 100_000 }, live(), full))).kind).toBe(
      "budget_exceeded",
    );
  });
});
