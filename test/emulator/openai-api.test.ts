import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { frameJson, openAiHeaders, post, sseFrames } from "./emulator-test-helpers.js";

let emulator: Emulator;
let client: OpenAI;

beforeAll(async () => {
  emulator = await startEmulator({ contextWindow: 40 });
  client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe("OpenAI chat completions", () => {
  it("echoes the last user message with exact usage (per message tokens + 3, plus 3)", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o-mini",
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "Hi there" },
        { role: "assistant", content: "Hello." },
        { role: "user", content: "Hello, world" },
      ],
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: "Echo: Hello, world", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens: 6 + 5 + 4 + 5 + 3,
      completion_tokens: 3,
      total_tokens: 26,
    });
    expect(completion.usage?.prompt_tokens_details).toEqual({ cached_tokens: 0, audio_tokens: 0 });
  });

  it("counts array content by its text parts", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "one two" },
            { type: "text", text: "three" },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Echo: one two\nthree");
    expect(completion.usage?.prompt_tokens).toBe(3 + 3 + 3);
  });

  it("cuts to max_tokens or max_completion_tokens with finish_reason length", async () => {
    const viaMaxTokens = await client.chat.completions.create({
      model: "gpt-4o",
      max_tokens: 2,
      messages: [{ role: "user", content: "Hello, world" }],
    });
    expect(viaMaxTokens.choices[0]).toMatchObject({ message: { content: "Echo: Hello," }, finish_reason: "length" });
    expect(viaMaxTokens.usage?.completion_tokens).toBe(2);
    const viaCompletionTokens = await client.chat.completions.create({
      model: "gpt-4o",
      max_completion_tokens: 1,
      messages: [{ role: "user", content: "Hello, world" }],
    });
    expect(viaCompletionTokens.choices[0]).toMatchObject({ message: { content: "Echo:" }, finish_reason: "length" });
  });

  it("cuts at a stop sequence with finish_reason stop", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-4o",
      stop: ["world"],
      messages: [{ role: "user", content: "Hello, world" }],
    });
    expect(completion.choices[0]).toMatchObject({ message: { content: "Echo: Hello, " }, finish_reason: "stop" });
    expect(completion.usage?.completion_tokens).toBe(2);
  });

  it("refuses a prompt over the context window with context_length_exceeded", async () => {
    const error = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "word ".repeat(40) }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    if (!(error instanceof OpenAI.BadRequestError)) return;
    expect(error.code).toBe("context_length_exceeded");
    expect(error.param).toBe("messages");
    expect(error.message).toContain(
      "This model's maximum context length is 40 tokens. However, your messages resulted in 46 tokens.",
    );
  });

  it("validates like the API does", async () => {
    const empty = await post(`${emulator.url}/v1/chat/completions`, { model: "gpt-4o", messages: [] }, openAiHeaders);
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({
      error: {
        message: "[] is too short - 'messages'",
        type: "invalid_request_error",
        param: "messages",
        code: "empty_array",
      },
    });
    const zero = await post(
      `${emulator.url}/v1/chat/completions`,
      { model: "gpt-4o", max_tokens: 0, messages: [{ role: "user", content: "x" }] },
      openAiHeaders,
    );
    expect(await zero.json()).toMatchObject({ error: { param: "max_tokens", code: "integer_below_min_value" } });
    const role = await post(
      `${emulator.url}/v1/chat/completions`,
      { model: "gpt-4o", messages: [{ role: "robot", content: "x" }] },
      openAiHeaders,
    );
    expect(await role.json()).toMatchObject({ error: { param: "messages[0].role", code: "invalid_value" } });
  });

  it("records what it served", async () => {
    await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
    expect(emulator.records).toHaveLength(1);
    expect(emulator.records[0]).toMatchObject({
      request: { api: "openai", operation: "chat", model: "gpt-4o", stream: false, path: "/v1/chat/completions" },
      status: 200,
      chunksSent: 0,
      aborted: false,
    });
  });
});

describe("OpenAI chat streams", () => {
  it("streams a role chunk, one chunk per token, a finish chunk, usage, then [DONE]", async () => {
    const response = await post(
      `${emulator.url}/v1/chat/completions`,
      {
        model: "gpt-4o",
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: "Hello, world" }],
      },
      openAiHeaders,
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    const frames = sseFrames(await response.text());
    expect(frames.map((frame) => frame.event)).toEqual(Array(7).fill(undefined));
    expect(frames[6]?.data).toBe("[DONE]");
    const chunks = frames.slice(0, 6).map(frameJson);
    const id = chunks[0]?.id;
    for (const chunk of chunks) expect(chunk).toMatchObject({ id, object: "chat.completion.chunk", model: "gpt-4o" });
    expect(chunks[0]).toMatchObject({
      choices: [
        { index: 0, delta: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: null },
      ],
      usage: null,
    });
    expect(chunks.slice(1, 4).map((chunk) => chunk.choices)).toEqual(
      ["Echo:", " Hello,", " world"].map((content) => [
        { index: 0, delta: { content }, logprobs: null, finish_reason: null },
      ]),
    );
    expect(chunks[4]).toMatchObject({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: null });
    expect(chunks[5]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 },
    });
    expect(emulator.records[0]).toMatchObject({ status: 200, chunksSent: 3, request: { stream: true } });
  });

  it("omits the usage chunk and usage fields without include_usage", async () => {
    const response = await post(
      `${emulator.url}/v1/chat/completions`,
      { model: "gpt-4o", stream: true, messages: [{ role: "user", content: "a b" }] },
      openAiHeaders,
    );
    const frames = sseFrames(await response.text());
    expect(frames).toHaveLength(6);
    for (const frame of frames.slice(0, 5)) expect(frameJson(frame)).not.toHaveProperty("usage");
    expect(frameJson(frames[4])).toMatchObject({ choices: [{ finish_reason: "stop" }] });
  });

  it("is read by the SDK into the same text and usage", async () => {
    const stream = await client.chat.completions.create({
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 3,
      messages: [{ role: "user", content: "one two three four" }],
    });
    let text = "";
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe("Echo: one two");
    expect(finish).toBe("length");
    expect(usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 });
  });
});

describe("OpenAI legacy completions", () => {
  it("answers text choices with logprobs null", async () => {
    const completion = await client.completions.create({
      model: "gpt-3.5-turbo-instruct",
      prompt: "Say this is a test",
    });
    expect(completion.object).toBe("text_completion");
    expect(completion.id).toMatch(/^cmpl-/);
    expect(completion.choices).toEqual([
      { text: "Echo: Say this is a test", index: 0, logprobs: null, finish_reason: "stop" },
    ]);
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
  });

  it("streams text chunks, a finish chunk, usage and [DONE]", async () => {
    const response = await post(
      `${emulator.url}/v1/completions`,
      {
        model: "gpt-3.5-turbo-instruct",
        prompt: "a b c",
        max_tokens: 2,
        stream: true,
        stream_options: { include_usage: true },
      },
      openAiHeaders,
    );
    const frames = sseFrames(await response.text());
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map(frameJson);
    expect(chunks.map((chunk) => chunk.object)).toEqual(Array(4).fill("text_completion"));
    expect(chunks.slice(0, 2).map((chunk) => chunk.choices)).toEqual(
      ["Echo:", " a"].map((text) => [{ text, index: 0, logprobs: null, finish_reason: null }]),
    );
    expect(chunks[2]).toMatchObject({ choices: [{ text: "", finish_reason: "length" }], usage: null });
    expect(chunks[3]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });
});

describe("OpenAI models", () => {
  it("lists models", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain("gpt-4o-mini");
    expect(emulator.records[0]?.request).toMatchObject({ api: "openai", operation: "models" });
  });
});
