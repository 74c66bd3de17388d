import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { isRecord } from "../../src/emulator/is-record.js";
import { anthropicHeaders, azureHeaders, azurePath, openAiHeaders, post } from "./emulator-test-helpers.js";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

const statuses = [400, 401, 403, 404, 408, 429, 500, 502, 503, 529] as const;
const chatBody = { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] };
const messagesBody = { model: "claude-x", max_tokens: 10, messages: [{ role: "user", content: "Hi" }] };

function openAiChat(fault: string): Promise<Response> {
  return post(`${emulator.url}/v1/chat/completions`, chatBody, { ...openAiHeaders, "x-emulator-fault": fault });
}
function azureChat(fault: string): Promise<Response> {
  return post(`${emulator.url}${azurePath("my-deploy", "chat/completions")}`, chatBody, {
    ...azureHeaders,
    "x-emulator-fault": fault,
  });
}
function anthropicMessages(fault: string): Promise<Response> {
  return post(`${emulator.url}/v1/messages`, messagesBody, { ...anthropicHeaders, "x-emulator-fault": fault });
}

describe("injected error statuses: OpenAI", () => {
  const expectedCodes: Partial<Record<number, string | number | null>> = {
    401: "invalid_api_key",
    404: "model_not_found",
    429: "rate_limit_exceeded",
    500: null,
    502: 502,
    503: null,
  };
  it.each(statuses)("status %i answers OpenAI's error envelope and headers", async (status) => {
    const response = await openAiChat(`status=${status}`);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(response.headers.get("x-ratelimit-limit-requests")).toMatch(/^\d+$/);
    expect(response.headers.get("x-ratelimit-reset-tokens")).toMatch(/^\d+(ms|s)$/);
    const body: unknown = await response.json();
    expect(body).toEqual({ error: expect.objectContaining({ message: expect.any(String), param: null }) });
    const error = isRecord(body) ? body.error : undefined;
    expect(isRecord(error) ? Object.keys(error).sort() : []).toEqual(["code", "message", "param", "type"]);
    if (status in expectedCodes) expect(body).toMatchObject({ error: { code: expectedCodes[status] } });
    if (status >= 500 && status !== 502) expect(body).toMatchObject({ error: { type: "server_error" } });
  });

  it("renders insufficient_quota and context_length_exceeded codes, and the retry hints", async () => {
    const quota = await openAiChat("code=insufficient_quota;retry-after=2;retry-after-ms=1500");
    expect(quota.status).toBe(429);
    expect(quota.headers.get("retry-after")).toBe("2");
    expect(quota.headers.get("retry-after-ms")).toBe("1500");
    expect(await quota.json()).toMatchObject({ error: { type: "insufficient_quota", code: "insufficient_quota" } });
    const context = await openAiChat("code=context_length_exceeded");
    expect(context.status).toBe(400);
    expect(await context.json()).toMatchObject({
      error: {
        code: "context_length_exceeded",
        param: "messages",
        message: expect.stringContaining("maximum context length"),
      },
    });
  });

  it("surfaces through the SDK as its typed errors with the request id", async () => {
    const client = new OpenAI({ apiKey: "sk-test-key", baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const error = await client.chat.completions
      .create(
        { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }] },
        { headers: { "x-emulator-fault": "status=429;retry-after=1" } },
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    if (!(error instanceof OpenAI.RateLimitError)) return;
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.requestID).toMatch(/^req_[0-9a-f]{32}$/);
    expect(error.headers.get("retry-after")).toBe("1");
  });
});

describe("injected error statuses: Azure", () => {
  const azureCodes: Partial<Record<number, string>> = {
    401: "401",
    403: "403",
    404: "DeploymentNotFound",
    408: "Timeout",
    429: "429",
    502: "BadGateway",
    503: "ServiceUnavailable",
    529: "ServiceUnavailable",
  };
  it.each(statuses)("status %i answers Azure's error body and headers", async (status) => {
    const response = await azureChat(`status=${status}`);
    expect(response.status).toBe(status);
    expect(response.headers.get("apim-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-ratelimit-remaining-requests")).toMatch(/^\d+$/);
    const body: unknown = await response.json();
    const code = azureCodes[status];
    if (code === undefined) {
      expect(body).toEqual({
        error: { message: expect.any(String), type: expect.any(String), param: null, code: null },
      });
    } else {
      expect(body).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it("names the operation and api-version in a 429", async () => {
    const response = await azureChat("status=429");
    expect(await response.json()).toMatchObject({
      error: {
        message: expect.stringContaining("ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21"),
      },
    });
  });
});

describe("injected error statuses: Anthropic", () => {
  const types: Record<(typeof statuses)[number], string> = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
  };
  it.each(statuses)("status %i answers Anthropic's error body and headers", async (status) => {
    const response = await anthropicMessages(`status=${status}`);
    expect(response.status).toBe(status);
    const requestId = response.headers.get("request-id");
    expect(requestId).toMatch(/^req_011C/);
    expect(response.headers.get("anthropic-ratelimit-requests-reset")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(response.headers.get("x-should-retry")).toBe(
      status === 408 || status === 429 || status >= 500 ? "true" : null,
    );
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: types[status], message: expect.any(String) },
      request_id: requestId,
    });
  });

  it("renders the context length code as prompt is too long", async () => {
    const response = await anthropicMessages("code=context_length_exceeded");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: "invalid_request_error", message: "prompt is too long: 128001 tokens > 128000 maximum" },
    });
  });

  it("surfaces a 529 through the SDK as overloaded_error", async () => {
    const client = new Anthropic({ apiKey: "sk-ant-test", baseURL: emulator.url, maxRetries: 0 });
    const error = await client.messages
      .create(
        { model: "c", max_tokens: 5, messages: [{ role: "user", content: "Hi" }] },
        { headers: { "x-emulator-fault": "status=529" } },
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    if (!(error instanceof Anthropic.APIError)) return;
    expect(error.status).toBe(529);
    expect(error.type).toBe("overloaded_error");
    expect(error.requestID).toMatch(/^req_011C/);
  });
});
