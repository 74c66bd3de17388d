import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { anthropicHeaders, frameJson, post, sseFrames } from "./emulator-test-helpers.js";

let emulator: Emulator;
let client: Anthropic;

beforeAll(async () => {
  emulator = await startEmulator({ contextWindow: 30 });
  client = new Anthropic({ apiKey: "sk-ant-test", baseURL: emulator.url, maxRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe("Anthropic messages", () => {
  it("echoes the last user message, counting the system prompt as one message", async () => {
    const message = await client.messages.create({
      model: "claude-sonnet-4-20250514",
      max_tokens: 100,
      system: "Be brief.",
      messages: [
        { role: "user", content: "Hi" },
        { role: "assistant", content: [{ type: "text", text: "Hello there." }] },
        { role: "user", content: [{ type: "text", text: "Hello, world" }] },
      ],
    });
    expect(message).toMatchObject({
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-20250514",
      content: [{ type: "text", text: "Echo: Hello, world" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 5 + 4 + 5 + 5 + 3,
        output_tokens: 3,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(message.id).toMatch(/^msg_01/);
    expect(emulator.records[0]?.request).toMatchObject({
      api: "anthropic",
      operation: "messages",
      model: "claude-sonnet-4-20250514",
    });
  });

  it("stops at max_tokens and at stop sequences", async () => {
    const cut = await client.messages.create({
      model: "c",
      max_tokens: 2,
      messages: [{ role: "user", content: "one two three" }],
    });
    expect(cut).toMatchObject({
      content: [{ text: "Echo: one" }],
      stop_reason: "max_tokens",
      usage: { output_tokens: 2 },
    });
    const stopped = await client.messages.create({
      model: "c",
      max_tokens: 50,
      stop_sequences: ["three"],
      messages: [{ role: "user", content: "one two three" }],
    });
    expect(stopped).toMatchObject({
      content: [{ text: "Echo: one two " }],
      stop_reason: "stop_sequence",
      stop_sequence: "three",
    });
  });

  it("refuses a prompt over the context window", async () => {
    const error = await client.messages
      .create({ model: "c", max_tokens: 5, messages: [{ role: "user", content: "w ".repeat(30) }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    if (!(error instanceof Anthropic.BadRequestError)) return;
    expect(error.error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: "prompt is too long: 36 tokens > 30 maximum" },
    });
    expect(error.requestID).toMatch(/^req_011C/);
  });

  it.each([
    ["a first assistant message", { max_tokens: 5, messages: [{ role: "assistant", content: "x" }] }, "first message"],
    [
      "consecutive user messages",
      {
        max_tokens: 5,
        messages: [
          { role: "user", content: "x" },
          { role: "user", content: "y" },
        ],
      },
      'found multiple "user" roles in a row',
    ],
    ["a system role message", { max_tokens: 5, messages: [{ role: "system", content: "x" }] }, "messages.0.role"],
    ["a missing max_tokens", { messages: [{ role: "user", content: "x" }] }, "max_tokens: Field required"],
    ["no messages", { max_tokens: 5, messages: [] }, "at least one message"],
  ])("answers 400 invalid_request_error for %s", async (_name, body, message) => {
    const response = await post(`${emulator.url}/v1/messages`, { model: "c", ...body }, anthropicHeaders);
    expect(response.status).toBe(400);
    const json: unknown = await response.json();
    expect(json).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining(message) },
      request_id: response.headers.get("request-id"),
    });
  });

  it("requires anthropic-version and x-api-key", async () => {
    const noVersion = await post(`${emulator.url}/v1/messages`, {}, { "x-api-key": "k" });
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({
      error: { type: "invalid_request_error", message: "anthropic-version: header is required" },
    });
    const noKey = await post(`${emulator.url}/v1/messages`, {}, { "anthropic-version": "2023-06-01" });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
  });
});

describe("Anthropic streams", () => {
  it("sends the recorded event sequence with one text_delta per token", async () => {
    const response = await post(
      `${emulator.url}/v1/messages`,
      { model: "c", max_tokens: 50, stream: true, messages: [{ role: "user", content: "Hello, world" }] },
      anthropicHeaders,
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("request-id")).toMatch(/^req_011C/);
    const frames = sseFrames(await response.text());
    expect(frames.map((frame) => frame.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const frame of frames) expect(frameJson(frame).type).toBe(frame.event);
    expect(frames[2]?.data).toBe('{"type": "ping"}');
    expect(frameJson(frames[0])).toMatchObject({
      message: {
        type: "message",
        role: "assistant",
        content: [],
        stop_reason: null,
        usage: { input_tokens: 8, output_tokens: 1 },
      },
    });
    expect(frameJson(frames[1])).toEqual({
      type: "content_block_start",
      index: 0,
      content_block: { type: "text", text: "" },
    });
    expect(frames.slice(3, 6).map((frame) => frameJson(frame).delta)).toEqual(
      ["Echo:", " Hello,", " world"].map((text) => ({ type: "text_delta", text })),
    );
    expect(frameJson(frames[7])).toMatchObject({
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 3 },
    });
    expect(emulator.records[0]).toMatchObject({ status: 200, chunksSent: 3 });
  });

  it("is assembled by the SDK's message stream", async () => {
    const stream = client.messages.stream({
      model: "c",
      max_tokens: 50,
      stop_sequences: ["world"],
      messages: [{ role: "user", content: "Hello, world" }],
    });
    const message = await stream.finalMessage();
    expect(message).toMatchObject({
      content: [{ type: "text", text: "Echo: Hello, " }],
      stop_reason: "stop_sequence",
      stop_sequence: "world",
      usage: { input_tokens: 8, output_tokens: 2 },
    });
  });
});

describe("Anthropic models", () => {
  it("lists models in Anthropic's format when the request carries anthropic-version", async () => {
    const page = await client.models.list();
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data[0]).toMatchObject({
      type: "model",
      id: expect.stringMatching(/^claude-/),
      display_name: expect.any(String),
    });
    expect(emulator.records[0]?.request).toMatchObject({ api: "anthropic", operation: "models" });
  });
});
