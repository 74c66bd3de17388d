import { describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { collectStream } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { sseHeaders, startScriptedServer } from "../../support/scripted-server.js";
import { anthropicSse } from "../../support/sse-framing.js";
import { anthropicTestConfig } from "./anthropic-test-config.js";

// Kill tests for src/providers/anthropic/anthropic-stream.ts (mutation testing, see docs/testing.md). Each
// scripted stream is written in one piece, so the SDK holds every event before the adapter reads the first.

function chatRequest(): ChatRequest {
  return { model: "claude-test", messages: [{ role: "user", content: "Hi" }] };
}

function messageStart(): { type: string } & Record<string, unknown> {
  return {
    type: "message_start",
    message: {
      id: "msg_k1",
      type: "message",
      role: "assistant",
      model: "claude-test-1",
      content: [],
      stop_reason: null,
      usage: { input_tokens: 4, output_tokens: 1 },
    },
  };
}

function textDelta(index: number, text: string): { type: string } & Record<string, unknown> {
  return { type: "content_block_delta", index, delta: { type: "text_delta", text } };
}

function messageEnd(): Array<{ type: string } & Record<string, unknown>> {
  return [
    { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 5 } },
    { type: "message_stop" },
  ];
}

describe("anthropicStream: content that is not text", () => {
  it("passes on only the text deltas of a stream that also streams thinking and a tool call", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: anthropicSse([
        messageStart(),
        { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "", signature: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "Let me see." } },
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "c2ln" } },
        { type: "content_block_stop", index: 0 },
        { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
        textDelta(1, "Sure."),
        { type: "content_block_stop", index: 1 },
        { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "t1", name: "f", input: {} } },
        { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"a":1}' } },
        { type: "content_block_stop", index: 2 },
        ...messageEnd(),
      ]),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const parts = await collectStream(provider.streamChat(chatRequest(), new AbortController().signal));
      expect(parts.filter((part) => part.type === "delta")).toEqual([{ type: "delta", text: "Sure." }]);
      expect(parts.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    } finally {
      await server.close();
    }
  });
});

describe("anthropicStream: a stream the adapter cannot read", () => {
  it("fails a message_stop without message_start as internal, saying what is missing", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: anthropicSse([textDelta(0, "Hi"), { type: "message_stop" }]),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const error = await providerErrorOf(provider.streamChat(chatRequest(), new AbortController().signal));
      expect(error.kind).toBe("internal");
      expect(error.provider).toBe("anthropic-test");
      expect(error.message).toBe("anthropic-test: stream finished without message_start");
    } finally {
      await server.close();
    }
  });
});

describe("anthropicStream: a caller that cancels mid-stream", () => {
  it("stops at the cancel, even with the rest of the stream already received, and fails as cancelled", async () => {
    const server = await startScriptedServer({
      status: 200,
      headers: sseHeaders,
      body: anthropicSse([
        messageStart(),
        textDelta(0, "one"),
        textDelta(0, "two"),
        textDelta(0, "three"),
        ...messageEnd(),
      ]),
    });
    try {
      const provider = createAnthropicProvider(anthropicTestConfig(server.url));
      const controller = new AbortController();
      const received: StreamPart[] = [];
      let failure: unknown;
      try {
        for await (const part of provider.streamChat(chatRequest(), controller.signal)) {
          received.push(part);
          controller.abort();
        }
      } catch (error) {
        failure = error;
      }
      expect(received).toEqual([{ type: "delta", text: "one" }]);
      expect(failure).toBeInstanceOf(ProviderError);
      expect(failure).toMatchObject({ kind: "cancelled", provider: "anthropic-test" });
    } finally {
      await server.close();
    }
  });
});
