import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { openAiHeaders, post } from "./emulator-test-helpers.js";

let emulator: Emulator;
let client: OpenAI;

beforeAll(async () => {
  emulator = await startEmulator();
  client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
afterAll(() => emulator.close());

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

describe("OpenAI embeddings", () => {
  it("answers float vectors of 1536 dimensions with usage", async () => {
    const response = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: "How do I reset my password?",
      encoding_format: "float",
    });
    expect(response).toMatchObject({
      object: "list",
      model: "text-embedding-3-small",
      usage: { prompt_tokens: 6, total_tokens: 6 },
    });
    expect(response.data).toHaveLength(1);
    const [item] = response.data;
    expect(item).toMatchObject({ object: "embedding", index: 0 });
    expect(item?.embedding).toHaveLength(1536);
    expect(norm(item?.embedding ?? [])).toBeCloseTo(1, 5);
  });

  it("sends base64 by default through the SDK, decoding to the very same float32 values", async () => {
    const decoded = await client.embeddings.create({ model: "text-embedding-3-small", input: ["alpha", "beta gamma"] });
    const floats = await client.embeddings.create({
      model: "text-embedding-3-small",
      input: ["alpha", "beta gamma"],
      encoding_format: "float",
    });
    expect(decoded.usage).toEqual({ prompt_tokens: 3, total_tokens: 3 });
    expect(decoded.data.map((item) => item.index)).toEqual([0, 1]);
    expect(decoded.data[0]?.embedding).toEqual(floats.data[0]?.embedding);
    expect(decoded.data[1]?.embedding).toEqual(floats.data[1]?.embedding);
    expect(decoded.data[0]?.embedding).not.toEqual(decoded.data[1]?.embedding);
    const raw = await post(
      `${emulator.url}/v1/embeddings`,
      { model: "m", input: "alpha", encoding_format: "base64" },
      openAiHeaders,
    );
    const body: unknown = await raw.json();
    expect(body).toMatchObject({ data: [{ embedding: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/) }] });
  });

  it("is deterministic per input and honours dimensions", async () => {
    const first = await client.embeddings.create({
      model: "m",
      input: "same text",
      dimensions: 8,
      encoding_format: "float",
    });
    const second = await client.embeddings.create({
      model: "m",
      input: "same text",
      dimensions: 8,
      encoding_format: "float",
    });
    expect(first.data[0]?.embedding).toHaveLength(8);
    expect(first.data[0]?.embedding).toEqual(second.data[0]?.embedding);
    expect(norm(first.data[0]?.embedding ?? [])).toBeCloseTo(1, 5);
  });

  it("accepts token arrays, counting one token per number", async () => {
    const response = await client.embeddings.create({ model: "m", input: [[1, 2, 3], [4]], encoding_format: "float" });
    expect(response.usage.prompt_tokens).toBe(4);
    expect(response.data).toHaveLength(2);
  });

  it("rejects an empty input and an unknown encoding", async () => {
    const empty = await post(`${emulator.url}/v1/embeddings`, { model: "m", input: [] }, openAiHeaders);
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { type: "invalid_request_error", param: "input" } });
    const encoding = await post(
      `${emulator.url}/v1/embeddings`,
      { model: "m", input: "x", encoding_format: "hex" },
      openAiHeaders,
    );
    expect(await encoding.json()).toMatchObject({ error: { param: "encoding_format", code: "invalid_value" } });
  });
});
