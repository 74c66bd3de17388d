import { describe, expect, it } from "vitest";
import { embeddingVector } from "../../../src/emulator/embedding-vector.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { echoChat } from "./echo-chat.js";
import { useEmulatorHarness } from "./emulator-harness.js";
import type { OpenAIFamilyMember } from "./openai-family-member.js";
import { providerErrorOf } from "../../support/provider-error-of.js";

const live = (): AbortSignal => new AbortController().signal;
const instruct = "gpt-3.5-turbo-instruct";
const embedder = "text-embedding-3-small";

/**
 * Answers, streams, embeddings and cancellation of one OpenAI-family adapter, through the real SDK and
 * real HTTP against the project's provider emulator.
 */
export function describeOpenAIFamilyAnswers(member: OpenAIFamilyMember): void {
  describe(`${member.type} adapter answers from the emulator`, () => {
    const harness = useEmulatorHarness(member);
    const { request } = echoChat;

    it("answers a chat with text, finish reason, exact usage and the request id", async () => {
      const result = await harness.provider().chat(request, live());
      expect(result).toMatchObject({ text: echoChat.answer, finishReason: "stop", usage: echoChat.usage });
      expect(result.id).toMatch(/^chatcmpl-/);
      expect(result.model).not.toBe("");
      expect(result.providerRequestId).toMatch(member.providerRequestId);
      expect(harness.emulator().records[0]?.request).toMatchObject({
        api: member.api,
        operation: "chat",
        model: request.model,
        stream: false,
      });
    });

    it("stops at maxTokens with finish reason length", async () => {
      const result = await harness.provider().chat({ ...request, maxTokens: 2 }, live());
      expect(result).toMatchObject({
        text: "Echo: Hello,",
        finishReason: "length",
        usage: { ...echoChat.usage, completionTokens: 2, totalTokens: 16 },
      });
    });

    it("streams a chat: deltas concatenate to the answer, then one finish with usage", async () => {
      const parts = await collectStream(harness.provider().streamChat(request, live()));
      expect(streamedText(parts)).toBe(echoChat.answer);
      expect(parts.filter((p) => p.type === "delta")).toHaveLength(3);
      expect(parts.filter((p) => p.type === "finish")).toHaveLength(1);
      const finish = parts.at(-1);
      if (finish?.type !== "finish") throw new Error("the stream did not end with a finish");
      expect(finish).toMatchObject({ finishReason: "stop", usage: echoChat.usage });
      expect(finish.id).toMatch(/^chatcmpl-/);
      expect(finish.providerRequestId).toMatch(member.providerRequestId);
      expect(harness.emulator().records[0]?.request.stream).toBe(true);
    });

    it("completes a prompt through the legacy endpoint", async () => {
      const result = await harness.provider().complete({ model: instruct, prompt: "Say hi please" }, live());
      expect(result).toMatchObject({
        text: "Echo: Say hi please",
        finishReason: "stop",
        usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7, cachedPromptTokens: 0, cacheWriteTokens: 0 },
      });
      expect(result.providerRequestId).toMatch(member.providerRequestId);
      expect(harness.emulator().records[0]?.request).toMatchObject({ operation: "completion", model: instruct });
    });

    it("streams a completion", async () => {
      const completion = { model: instruct, prompt: "Say hi please", maxTokens: 3 };
      const stream = harness.provider().streamComplete(completion, live());
      const parts = await collectStream(stream);
      expect(streamedText(parts)).toBe("Echo: Say hi");
      expect(parts.at(-1)).toMatchObject({
        type: "finish",
        finishReason: "length",
        usage: { promptTokens: 3, completionTokens: 3, totalTokens: 6 },
      });
    });

    it("embeds inputs in order with float values of the requested dimensions", async () => {
      const inputs = ["alpha", "beta gamma"];
      const result = await harness.provider().embed({ model: embedder, inputs, dimensions: 8 }, live());
      expect(result.embeddings).toEqual(inputs.map((input) => Array.from(embeddingVector(input, 8))));
      expect(result.usage).toMatchObject({ promptTokens: 3, completionTokens: 0, totalTokens: 3 });
      expect(result.providerRequestId).toMatch(member.providerRequestId);
      const full = await harness.provider().embed({ model: embedder, inputs: ["alpha"] }, live());
      expect(full.embeddings[0]).toHaveLength(1536);
    });

    it("answers a content-filtered completion with finish reason content_filter", async () => {
      harness.emulator().setFault({ errorCode: "content_filter" });
      expect((await harness.provider().chat(request, live())).finishReason).toBe("content_filter");
    });

    describe("cancellation", () => {
      it("aborts the upstream request in the middle of a stream", async () => {
        harness.emulator().setFault({ chunkDelayMs: 200 });
        const controller = new AbortController();
        const stream = harness.provider().streamChat(request, controller.signal)[Symbol.asyncIterator]();
        expect(await stream.next()).toEqual({ done: false, value: { type: "delta", text: "Echo:" } });
        controller.abort();
        expect((await providerErrorOf(stream.next())).kind).toBe("cancelled");
        const record = await harness.firstRecord();
        await record.done;
        expect(record.aborted).toBe(true);
      });

      // No time limit can end these calls (the config allows ten minutes): only the propagated abort
      // does, or the test times out.
      for (const operation of ["chat", "streamChat", "embed"] as const) {
        it(`aborts a hanging ${operation} call`, async () => {
          harness.emulator().setFault({ hang: true });
          const controller = new AbortController();
          const provider = harness.provider({ timeoutMs: 600_000 });
          const call =
            operation === "chat"
              ? provider.chat(request, controller.signal)
              : operation === "embed"
                ? provider.embed({ model: embedder, inputs: ["a"] }, controller.signal)
                : collectStream(provider.streamChat(request, controller.signal));
          const record = await harness.firstRecord();
          controller.abort();
          const error = await providerErrorOf(call);
          expect(error).toMatchObject({ kind: "cancelled", retryable: false });
          await record.done;
          expect(record.aborted).toBe(true);
        });
      }
    });
  });
}
