// Kills mutants that survived `npm run test:mutation` in src/pipeline/observe/attempt-recorder.ts (see
// docs/testing.md, "Mutation testing"). Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { withAttemptRecording } from "../../../src/pipeline/observe/attempt-recorder.js";
import { detachedContext } from "../../../src/providers/call-context.js";
import type { ChatRequest, CompletionRequest, Provider, StreamPart } from "../../../src/providers/provider.js";
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
