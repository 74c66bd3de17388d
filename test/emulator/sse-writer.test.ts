import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorRecord } from "../../src/emulator/emulator.js";
import {
  anthropicHeaders,
  azureHeaders,
  azurePath,
  frameJson,
  openAiHeaders,
  post,
  readUntil,
  sseFrames,
  until,
} from "./emulator-test-helpers.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

const words = "one two three four five";

function openAiStream(fault: string, signal?: AbortSignal): Promise<Response> {
  return post(
    `${emulator.url}/v1/chat/completions`,
    {
      model: "gpt-4o",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: words }],
    },
    { ...openAiHeaders, "x-emulator-fault": fault },
    signal,
  );
}

function anthropicStream(fault: string): Promise<Response> {
  return post(
    `${emulator.url}/v1/messages`,
    { model: "c", max_tokens: 50, stream: true, messages: [{ role: "user", content: words }] },
    { ...anthropicHeaders, "x-emulator-fault": fault },
  );
}

/** Reads a body to its end or its failure, keeping what arrived. */
async function readAll(response: Response): Promise<{ text: string; failed: boolean }> {
  const body = response.body;
  if (body === null) return { text: "", failed: false };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text, failed: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, failed: true };
  }
}

function onlyRecord(): EmulatorRecord {
  const record = emulator.records[0];
  if (record === undefined) throw new Error("no record");
  return record;
}

describe("drop-after", () => {
  it("sends N content chunks then cuts the connection without an end", async () => {
    const { text, failed } = await readAll(await openAiStream("drop-after=2"));
    expect(failed).toBe(true);
    const contents = sseFrames(text).map((frame) => frameJson(frame).choices);
    expect(contents).toHaveLength(3);
    expect(text).not.toContain("[DONE]");
    await onlyRecord().done;
    expect(onlyRecord()).toMatchObject({ status: 200, chunksSent: 2, aborted: false });
  });

  it("makes the OpenAI SDK stream fail after the delivered chunks", async () => {
    const client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", stream: true, messages: [{ role: "user", content: words }] },
      { headers: { "x-emulator-fault": "drop-after=3" } },
    );
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(Error);
    expect(text).toBe("Echo: one two");
  });
});

describe("error-after", () => {
  it("sends OpenAI's in-stream error event and ends without [DONE]", async () => {
    const { text, failed } = await readAll(await openAiStream("error-after=1"));
    expect(failed).toBe(false);
    const frames = sseFrames(text);
    expect(frames).toHaveLength(3);
    expect(frameJson(frames[2])).toEqual({
      error: { message: expect.stringContaining("server had an error"), type: "server_error", param: null, code: null },
    });
    expect(onlyRecord().chunksSent).toBe(1);
  });

  it("makes the OpenAI SDK throw the in-stream error", async () => {
    const client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: "gpt-4o", stream: true, messages: [{ role: "user", content: words }] },
      { headers: { "x-emulator-fault": "error-after=2" } },
    );
    const failure = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(OpenAI.APIError);
    if (failure instanceof OpenAI.APIError) expect(failure.type).toBe("server_error");
  });

  it("sends Anthropic's overloaded error event, which the SDK throws", async () => {
    const { text } = await readAll(await anthropicStream("error-after=2"));
    const frames = sseFrames(text);
    expect(frames.map((frame) => frame.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "error",
    ]);
    expect(frameJson(frames[5])).toEqual({
      type: "error",
      error: { details: null, type: "overloaded_error", message: "Overloaded" },
    });

    const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: emulator.url, maxRetries: 0 });
    const failure = await client.messages
      .stream(
        { model: "c", max_tokens: 50, messages: [{ role: "user", content: words }] },
        { headers: { "x-emulator-fault": "error-after=1" } },
      )
      .finalMessage()
      .catch((caught: unknown) => caught);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    if (failure instanceof Anthropic.APIError) expect(failure.type).toBe("overloaded_error");
  });
});

describe("truncate-after", () => {
  it("ends an OpenAI stream cleanly without finish chunk, usage or [DONE]", async () => {
    const { text, failed } = await readAll(await openAiStream("truncate-after=2"));
    expect(failed).toBe(false);
    const chunks = sseFrames(text).map(frameJson);
    expect(chunks).toHaveLength(3);
    for (const chunk of chunks) expect(chunk).toMatchObject({ choices: [{ finish_reason: null }] });
    expect(onlyRecord()).toMatchObject({ chunksSent: 2, aborted: false });
  });

  it("ends an Anthropic stream without message_delta and message_stop", async () => {
    const { text } = await readAll(await anthropicStream("truncate-after=1"));
    expect(sseFrames(text).map((frame) => frame.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
    ]);
  });

  it("strikes after the last content chunk when the answer is shorter than N", async () => {
    const response = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { stream: true, messages: [{ role: "user", content: "a" }] },
      { ...azureHeaders, "x-emulator-fault": "truncate-after=100" },
    );
    const frames = sseFrames((await readAll(response)).text);
    expect(frames).toHaveLength(1 + 1 + 2);
    expect(frames.every((frame) => !frame.data.includes('"finish_reason":"stop"'))).toBe(true);
    expect(onlyRecord().chunksSent).toBe(2);
  });
});

describe("timing faults", () => {
  it("holds the headers back for latency; a client giving up is recorded as aborted", async () => {
    const controller = new AbortController();
    const pending = openAiStream("latency=60000", controller.signal).catch((caught: unknown) => caught);
    await until(() => emulator.records.length > 0);
    expect(onlyRecord().status).toBe(0);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await onlyRecord().done;
    expect(onlyRecord()).toMatchObject({ status: 0, aborted: true });
  });

  it("sends the head at once and waits ttft before the first content chunk", async () => {
    const controller = new AbortController();
    const response = await openAiStream("ttft=60000", controller.signal);
    const head = await readUntil(response, (text) => text.includes('"role":"assistant"'));
    expect(sseFrames(head)).toHaveLength(1);
    expect(onlyRecord()).toMatchObject({ status: 200, chunksSent: 0 });
    controller.abort();
    await onlyRecord().done;
    expect(onlyRecord()).toMatchObject({ chunksSent: 0, aborted: true });
  });

  it("waits chunk-delay between chunks", async () => {
    const controller = new AbortController();
    const response = await openAiStream("chunk-delay=60000", controller.signal);
    await readUntil(response, (text) => text.includes('"content":"Echo:"'));
    expect(onlyRecord().chunksSent).toBe(1);
    controller.abort();
    await onlyRecord().done;
    expect(onlyRecord()).toMatchObject({ chunksSent: 1, aborted: true });
  });

  it("still delivers the whole stream with small delays", async () => {
    const { text, failed } = await readAll(await openAiStream("latency=5;ttft=5;chunk-delay=1"));
    expect(failed).toBe(false);
    expect(sseFrames(text).at(-1)?.data).toBe("[DONE]");
    expect(onlyRecord()).toMatchObject({ chunksSent: 6, aborted: false });
  });
});

describe("hang", () => {
  it("never answers until the client aborts", async () => {
    const client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const controller = new AbortController();
    const pending = client.chat.completions
      .create(
        { model: "gpt-4o", messages: [{ role: "user", content: "x" }] },
        { headers: { "x-emulator-fault": "hang" }, signal: controller.signal },
      )
      .catch((caught: unknown) => caught);
    await until(() => emulator.records.length > 0);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    await onlyRecord().done;
    expect(onlyRecord()).toMatchObject({ status: 0, aborted: true });
  });
});
