import { afterEach, describe, expect, it } from "vitest";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest } from "../../../src/providers/provider.js";
import { anthropicTestConfig, testApiKey } from "./anthropic-test-config.js";
import { collectStream, streamedText } from "../../support/collect-stream.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { type ScriptedResponse, type ScriptedServer, startScriptedServer } from "../../support/scripted-server.js";
import { anthropicSse as sse } from "../../support/sse-framing.js";

const request: ChatRequest = { model: "claude-test", messages: [{ role: "user", content: "Hi" }] };
const signal = new AbortController().signal;

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function providerAnswering(response: ScriptedResponse) {
  server = await startScriptedServer(response);
  return createAnthropicProvider(anthropicTestConfig(server.url));
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): ScriptedResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

function errorBody(type: string, message: string, requestId?: string): unknown {
  return { type: "error", error: { type, message }, ...(requestId === undefined ? {} : { request_id: requestId }) };
}

function streamOf(events: Array<{ type: string } & Record<string, unknown>>): ScriptedResponse {
  return {
    status: 200,
    headers: { "content-type": "text/event-stream", "request-id": "req_stream_1" },
    body: sse(events),
  };
}

const messageStart = (usage: Record<string, number>) => ({
  type: "message_start",
  message: {
    id: "msg_s1",
    type: "message",
    role: "assistant",
    model: "claude-test-1",
    content: [],
    stop_reason: null,
    usage,
  },
});

describe("Anthropic adapter on hand-written wire shapes", () => {
  it("counts cache reads and writes in a unary answer and joins only the text blocks", async () => {
    const provider = await providerAnswering(
      json(
        200,
        {
          id: "msg_c1",
          type: "message",
          role: "assistant",
          model: "claude-test-1",
          content: [
            { type: "thinking", thinking: "hmm", signature: "sig" },
            { type: "text", text: "Part one. " },
            { type: "text", text: "Part two." },
          ],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 5, cache_creation_input_tokens: 120, cache_read_input_tokens: 900, output_tokens: 17 },
        },
        { "request-id": "req_c1" },
      ),
    );
    const result = await provider.chat(request, signal);
    expect(result).toEqual({
      id: "msg_c1",
      text: "Part one. Part two.",
      finishReason: "stop",
      model: "claude-test-1",
      providerRequestId: "req_c1",
      usage: {
        promptTokens: 1025,
        completionTokens: 17,
        totalTokens: 1042,
        cachedPromptTokens: 900,
        cacheWriteTokens: 120,
      },
    });
    expect(server?.requests[0]?.headers.authorization).toBe(`Bearer ${testApiKey}`);
  });

  it("takes the latest input and cache counts from message_delta in a stream", async () => {
    const provider = await providerAnswering(
      streamOf([
        messageStart({ input_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, output_tokens: 1 }),
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
        { type: "content_block_stop", index: 0 },
        {
          type: "message_delta",
          delta: { stop_reason: "refusal", stop_sequence: null },
          usage: { input_tokens: 6, cache_read_input_tokens: 50, cache_creation_input_tokens: 10, output_tokens: 9 },
        },
        { type: "message_stop" },
      ]),
    );
    const parts = await collectStream(provider.streamChat(request, signal));
    expect(parts.filter((part) => part.type === "delta")).toHaveLength(2);
    expect(streamedText(parts)).toBe("Hello");
    expect(parts.at(-1)).toEqual({
      type: "finish",
      id: "msg_s1",
      finishReason: "content_filter",
      model: "claude-test-1",
      providerRequestId: "req_stream_1",
      usage: { promptTokens: 66, completionTokens: 9, totalTokens: 75, cachedPromptTokens: 50, cacheWriteTokens: 10 },
    });
  });

  it("keeps message_start counts when message_delta reports output tokens only", async () => {
    const provider = await providerAnswering(
      streamOf([
        messageStart({ input_tokens: 8, cache_read_input_tokens: 30, output_tokens: 1 }),
        {
          type: "message_delta",
          delta: { stop_reason: "pause_turn", stop_sequence: null },
          usage: { output_tokens: 3 },
        },
        { type: "message_stop" },
      ]),
    );
    const parts = await collectStream(provider.streamChat(request, signal));
    expect(parts).toEqual([
      expect.objectContaining({
        type: "finish",
        finishReason: "other",
        usage: { promptTokens: 38, completionTokens: 3, totalTokens: 41, cachedPromptTokens: 30, cacheWriteTokens: 0 },
      }),
    ]);
  });

  it("reads the request id from the error body when the header is missing", async () => {
    const provider = await providerAnswering(json(400, errorBody("invalid_request_error", "bad field", "req_body_7")));
    const error = await providerErrorOf(provider.chat(request, signal));
    expect(error).toMatchObject({ kind: "invalid_request", status: 400, providerRequestId: "req_body_7" });
    expect(error.message).toBe("anthropic-test: bad field");
  });

  it.each([
    [403, "permission_error", "auth"],
    [402, "billing_error", "quota_exceeded"],
    [408, "timeout_error", "timeout"],
    [413, "request_too_large", "invalid_request"],
    [422, "invalid_request_error", "invalid_request"],
    [503, "api_error", "unavailable"],
    [409, "conflict_error", "internal"],
  ])("maps HTTP %i %s to %s", async (status, type, kind) => {
    const provider = await providerAnswering(
      json(status, errorBody(type, `scripted ${type}`), { "request-id": "req_h1" }),
    );
    const error = await providerErrorOf(provider.chat(request, signal));
    expect(error).toMatchObject({ kind, status, provider: "anthropic-test", providerRequestId: "req_h1" });
    expect(error.message).toBe(`anthropic-test: scripted ${type}`);
  });

  it("maps a 5xx with a non-JSON body to unavailable", async () => {
    const provider = await providerAnswering({
      status: 502,
      headers: { "content-type": "text/html" },
      body: "<html>bad gateway</html>",
    });
    const error = await providerErrorOf(provider.chat(request, signal));
    expect(error).toMatchObject({ kind: "unavailable", status: 502, retryable: true });
    expect(error.message).toContain("bad gateway");
  });

  it("takes retryAfterMs from the rate-limit reset header when retry-after is absent", async () => {
    const reset = new Date(Date.now() + 60_000).toISOString();
    const provider = await providerAnswering(
      json(429, errorBody("rate_limit_error", "slow down"), { "anthropic-ratelimit-requests-reset": reset }),
    );
    const error = await providerErrorOf(provider.chat(request, signal));
    expect(error.kind).toBe("rate_limited");
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });

  it("ignores the rate-limit reset headers that come with errors other than 429", async () => {
    const reset = new Date(Date.now() + 60_000).toISOString();
    const headers = { "anthropic-ratelimit-requests-reset": reset };
    const unavailable = await providerAnswering(json(500, errorBody("api_error", "oops"), headers));
    expect(await providerErrorOf(unavailable.chat(request, signal))).toMatchObject({
      kind: "unavailable",
      retryAfterMs: undefined,
    });
    await server?.close();
    const denied = await providerAnswering(
      json(403, errorBody("permission_error", "no"), { ...headers, "retry-after": "5" }),
    );
    expect(await providerErrorOf(denied.chat(request, signal))).toMatchObject({
      kind: "auth",
      retryAfterMs: undefined,
    });
  });

  it("keeps an explicit retry-after on a 5xx", async () => {
    const provider = await providerAnswering(json(503, errorBody("api_error", "later"), { "retry-after": "4" }));
    expect(await providerErrorOf(provider.chat(request, signal))).toMatchObject({
      kind: "unavailable",
      retryAfterMs: 4000,
    });
  });

  it.each([
    ["invalid_request_error", "prompt is too long: 300 tokens > 200 maximum", "context_length"],
    ["api_error", "Internal server error", "unavailable"],
    ["some_new_error", "something new", "unavailable"],
  ])("maps an in-stream %s error event by its type", async (type, message, kind) => {
    const provider = await providerAnswering(
      streamOf([messageStart({ input_tokens: 4, output_tokens: 1 }), { type: "error", error: { type, message } }]),
    );
    const error = await providerErrorOf(provider.streamChat(request, signal));
    expect(error).toMatchObject({
      kind,
      status: undefined,
      retryAfterMs: undefined,
      providerRequestId: "req_stream_1",
    });
    expect(error.message).toBe(`anthropic-test: ${message}`);
  });

  it("fails a stream whose message_stop comes without message_start", async () => {
    const provider = await providerAnswering(streamOf([{ type: "message_stop" }]));
    const error = await providerErrorOf(provider.streamChat(request, signal));
    expect(error.kind).toBe("internal");
  });
});
