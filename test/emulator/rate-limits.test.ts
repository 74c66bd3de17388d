import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { anthropicHeaders, azureHeaders, azurePath, openAiHeaders, post } from "./emulator-test-helpers.js";

describe("request limits", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ limits: { requestsPerMinute: 2 } });
  });
  afterAll(() => emulator.close());
  beforeEach(() => emulator.reset());

  const chat = (): Promise<Response> =>
    post(
      `${emulator.url}/v1/chat/completions`,
      { model: "gpt-4o", messages: [{ role: "user", content: "Hello, world" }] },
      openAiHeaders,
    );

  it("reports the true remaining requests and answers OpenAI's 429 after the limit", async () => {
    const first = await chat();
    expect(first.headers.get("x-ratelimit-limit-requests")).toBe("2");
    expect(first.headers.get("x-ratelimit-remaining-requests")).toBe("1");
    expect(first.headers.get("x-ratelimit-reset-requests")).toMatch(/^(59(\.\d+)?s|1m0s)$/);
    expect((await chat()).headers.get("x-ratelimit-remaining-requests")).toBe("0");
    const refused = await chat();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(refused.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({
      error: {
        message: expect.stringMatching(
          /^Rate limit reached for gpt-4o in organization org-emulator on requests per min \(RPM\): Limit 2, Used 2, Requested 1\./,
        ),
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    });
    expect(emulator.records.map((record) => record.status)).toEqual([200, 200, 429]);
  });

  it("gives the OpenAI SDK a RateLimitError", async () => {
    const client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const ask = () => client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] });
    await ask();
    await ask();
    await expect(ask()).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("keeps a window per API and starts afresh after reset", async () => {
    await chat();
    await chat();
    const azure = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { messages: [{ role: "user", content: "x" }] },
      azureHeaders,
    );
    expect(azure.status).toBe(200);
    expect((await chat()).status).toBe(429);
    emulator.reset();
    expect((await chat()).status).toBe(200);
  });

  it("answers Anthropic's 429 with retry-after and RFC 3339 reset headers", async () => {
    const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: emulator.url, maxRetries: 0 });
    const ask = () => client.messages.create({ model: "c", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    const { response } = await ask().withResponse();
    expect(response.headers.get("anthropic-ratelimit-requests-remaining")).toBe("1");
    const reset = Date.parse(response.headers.get("anthropic-ratelimit-requests-reset") ?? "");
    expect(reset).toBeGreaterThan(Date.now());
    await ask();
    const error = await ask().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    if (!(error instanceof Anthropic.RateLimitError)) return;
    expect(error.type).toBe("rate_limit_error");
    expect(Number(error.headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(error.headers?.get("anthropic-ratelimit-requests-remaining")).toBe("0");
  });
});

describe("token limits", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ limits: { tokensPerMinute: 20 } });
  });
  afterAll(() => emulator.close());

  it("charges prompt plus completion tokens and refuses what would exceed the limit", async () => {
    const chat = (): Promise<Response> =>
      post(
        `${emulator.url}/v1/chat/completions`,
        { model: "gpt-4o", messages: [{ role: "user", content: "Hello, world" }] },
        openAiHeaders,
      );
    const first = await chat();
    expect(first.headers.get("x-ratelimit-limit-tokens")).toBe("20");
    expect(first.headers.get("x-ratelimit-remaining-tokens")).toBe(String(20 - 11));
    const refused = await chat();
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({
      error: {
        type: "tokens",
        code: "rate_limit_exceeded",
        message: expect.stringContaining("Limit 20, Used 11, Requested 11"),
      },
    });
    const azure = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { messages: [{ role: "user", content: "word ".repeat(30) }] },
      azureHeaders,
    );
    expect(azure.status).toBe(429);
    expect(await azure.json()).toEqual({
      error: { code: "429", message: expect.stringContaining("exceeded token rate limit") },
    });
  });

  it("reports nominal request limits when only tokens are limited", async () => {
    const response = await post(
      `${emulator.url}/v1/messages`,
      { model: "c", max_tokens: 1, messages: [{ role: "user", content: "x" }] },
      anthropicHeaders,
    );
    expect(Number(response.headers.get("anthropic-ratelimit-requests-limit"))).toBeGreaterThan(1000);
  });
});
