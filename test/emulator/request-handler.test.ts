import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { anthropicHeaders, azureHeaders, azurePath, openAiHeaders, post } from "./emulator-test-helpers.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: "sk-test-key" });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.reset();
  emulator.setFault(undefined);
});

const chatBody = { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] };

describe("authentication", () => {
  it("answers OpenAI's invalid_api_key 401 for a wrong key, quoting it masked", async () => {
    const client = new OpenAI({ apiKey: "sk-wrong-key-0123456789", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    if (!(error instanceof OpenAI.AuthenticationError)) return;
    expect(error.code).toBe("invalid_api_key");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toContain("Incorrect API key provided: sk-wrong***********6789.");
  });

  it("answers OpenAI's 401 without a key", async () => {
    const response = await post(`${emulator.url}/v1/chat/completions`, chatBody, {});
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: { message: expect.stringContaining("You didn't provide an API key"), code: null },
    });
  });

  it("answers Anthropic's authentication_error for a wrong key", async () => {
    const client = new Anthropic({ apiKey: "sk-ant-wrong", baseURL: emulator.url, maxRetries: 0 });
    const error = await client.messages
      .create({ model: "c", max_tokens: 5, messages: [{ role: "user", content: "x" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    if (!(error instanceof Anthropic.AuthenticationError)) return;
    expect(error.error).toMatchObject({
      type: "error",
      error: { type: "authentication_error", message: "invalid x-api-key" },
    });
  });

  it("accepts the configured key in x-api-key", async () => {
    const response = await post(
      `${emulator.url}/v1/messages`,
      { model: "c", max_tokens: 5, messages: [{ role: "user", content: "x" }] },
      { "x-api-key": "sk-test-key", "anthropic-version": "2023-06-01" },
    );
    expect(response.status).toBe(200);
  });
});

describe("routing and malformed requests", () => {
  it("answers 404 in each API's style for unknown paths, without recording them", async () => {
    const openAi = await post(`${emulator.url}/v1/nope`, {}, { authorization: "Bearer sk-test-key" });
    expect(openAi.status).toBe(404);
    expect(await openAi.json()).toEqual({
      error: { message: "Invalid URL (POST /v1/nope)", type: "invalid_request_error", param: null, code: null },
    });
    const anthropic = await post(
      `${emulator.url}/v1/nope`,
      {},
      { "x-api-key": "sk-test-key", "anthropic-version": "2023-06-01" },
    );
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    const wrongMethod = await fetch(`${emulator.url}/v1/chat/completions`, { headers: openAiHeaders });
    expect(wrongMethod.status).toBe(404);
    expect(emulator.records).toHaveLength(0);
  });

  it("answers 400 for a body that is not JSON, per API", async () => {
    const openAi = await post(`${emulator.url}/v1/chat/completions`, "{not json", {
      authorization: "Bearer sk-test-key",
    });
    expect(openAi.status).toBe(400);
    expect(await openAi.json()).toMatchObject({
      error: { message: expect.stringContaining("could not parse the JSON body"), type: "invalid_request_error" },
    });
    const anthropic = await post(`${emulator.url}/v1/messages`, "{", {
      "x-api-key": "sk-test-key",
      "anthropic-version": "2023-06-01",
    });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    const azure = await post(`${emulator.url}${azurePath("dep", "embeddings")}`, "", { "api-key": "sk-test-key" });
    expect(azure.status).toBe(400);
    expect(emulator.records.map((record) => record.request.body)).toEqual([undefined, undefined, undefined]);
  });
});

describe("fault selection", () => {
  it("applies a per-run fault function to the requests it picks", async () => {
    let calls = 0;
    emulator.setFault((request) => (request.model === "flaky" && ++calls <= 2 ? { status: 503 } : undefined));
    const ask = (model: string) =>
      post(`${emulator.url}/v1/chat/completions`, { ...chatBody, model }, { authorization: "Bearer sk-test-key" });
    expect((await ask("flaky")).status).toBe(503);
    expect((await ask("steady")).status).toBe(200);
    expect((await ask("flaky")).status).toBe(503);
    expect((await ask("flaky")).status).toBe(200);
  });

  it("lets the header replace the per-run fault", async () => {
    emulator.setFault({ status: 500 });
    const ask = (fault: string | undefined) =>
      post(`${emulator.url}/v1/chat/completions`, chatBody, {
        authorization: "Bearer sk-test-key",
        ...(fault === undefined ? {} : { "x-emulator-fault": fault }),
      });
    expect((await ask(undefined)).status).toBe(500);
    expect((await ask("status=502")).status).toBe(502);
    expect((await ask("latency=0")).status).toBe(200);
  });

  it("answers 400 naming the culprit for a malformed fault header", async () => {
    const response = await post(`${emulator.url}/v1/chat/completions`, chatBody, {
      authorization: "Bearer sk-test-key",
      "x-emulator-fault": "explode=1",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { message: "Invalid x-emulator-fault header: unknown fault key: explode" },
    });
  });

  it("turns content_filter without a status into a 200 with finish_reason content_filter", async () => {
    const response = await post(`${emulator.url}/v1/chat/completions`, chatBody, {
      authorization: "Bearer sk-test-key",
      "x-emulator-fault": "code=content_filter",
    });
    expect(await response.json()).toMatchObject({ choices: [{ finish_reason: "content_filter" }] });
    const anthropic = await post(
      `${emulator.url}/v1/messages`,
      { model: "c", max_tokens: 5, messages: [{ role: "user", content: "x" }] },
      { ...anthropicHeaders, "x-api-key": "sk-test-key", "x-emulator-fault": "code=content_filter" },
    );
    expect(await anthropic.json()).toMatchObject({ stop_reason: "refusal" });
  });

  it("puts the fault's retry hints on the answer", async () => {
    const response = await post(`${emulator.url}${azurePath("dep", "chat/completions")}`, chatBody, {
      ...azureHeaders,
      "api-key": "sk-test-key",
      "x-emulator-fault": "status=503;retry-after=3;retry-after-ms=2500",
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("3");
    expect(response.headers.get("retry-after-ms")).toBe("2500");
  });

  it("answers a wrong key with 401 even under an injected status", async () => {
    const response = await post(`${emulator.url}/v1/chat/completions`, chatBody, {
      ...openAiHeaders,
      authorization: "Bearer other",
      "x-emulator-fault": "status=500",
    });
    expect(response.status).toBe(401);
  });
});
