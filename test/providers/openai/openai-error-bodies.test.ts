import { describe, expect, it } from "vitest";
import { testApiKey } from "./openai-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { streamUntilError } from "./stream-until-error.js";
import { jsonHeaders, sseHeaders, type ScriptedResponse } from "../../support/scripted-server.js";
import { chatRequest, chunk, scriptedOpenAIProvider } from "./scripted-openai-provider.js";
import { openAISse } from "../../support/sse-framing.js";

const signal = new AbortController().signal;

const scripted = scriptedOpenAIProvider();
const providerAnswering = scripted.answering;

function errorBody(
  message: string,
  type: string | null,
  code: string | number | null,
  param: string | null = null,
): string {
  return JSON.stringify({ error: { message, type, param, code } });
}

describe("OpenAI error bodies the emulator does not produce", () => {
  const cases: Array<{ title: string; response: ScriptedResponse; kind: string; message: string }> = [
    {
      title: "a 503 saying overloaded",
      response: {
        status: 503,
        headers: jsonHeaders,
        body: errorBody("That model is currently overloaded with other requests.", "server_error", null),
      },
      kind: "overloaded",
      message: "openai-test: That model is currently overloaded with other requests.",
    },
    {
      title: "a 400 naming the maximum context length without a code",
      response: {
        status: 400,
        headers: jsonHeaders,
        body: errorBody(
          "This model's maximum context length is 4097 tokens.",
          "invalid_request_error",
          null,
          "messages",
        ),
      },
      kind: "context_length",
      message: "openai-test: This model's maximum context length is 4097 tokens.",
    },
    {
      title: "a 400 unsupported parameter",
      response: {
        status: 400,
        headers: jsonHeaders,
        body: errorBody("Unsupported parameter: 'max_tokens'.", "invalid_request_error", "unsupported_parameter"),
      },
      kind: "invalid_request",
      message: "openai-test: Unsupported parameter: 'max_tokens'.",
    },
    {
      title: "a 402 from a credit-based compatible server",
      response: { status: 402, headers: jsonHeaders, body: errorBody("Insufficient credits", null, 402) },
      kind: "quota_exceeded",
      message: "openai-test: Insufficient credits",
    },
    {
      title: "a 502 with an HTML body",
      response: { status: 502, headers: { "content-type": "text/html" }, body: "<html>Bad Gateway</html>" },
      kind: "unavailable",
      message: "openai-test: 502 <html>Bad Gateway</html>",
    },
    {
      title: "a 409 conflict",
      response: {
        status: 409,
        headers: jsonHeaders,
        body: errorBody("Conflict, try again", "invalid_request_error", null),
      },
      kind: "unavailable",
      message: "openai-test: Conflict, try again",
    },
  ];

  for (const { title, response, kind, message } of cases) {
    it(`maps ${title} to ${kind}`, async () => {
      const provider = await providerAnswering(response);
      const error = await providerErrorOf(provider.chat(chatRequest, signal));
      expect(error.kind).toBe(kind);
      expect(error.status).toBe(response.status);
      expect(error.message).toBe(message);
    });
  }

  it("takes the request id from apim-request-id when x-request-id is absent", async () => {
    const provider = await providerAnswering({
      status: 500,
      headers: { ...jsonHeaders, "apim-request-id": "apim-1" },
      body: JSON.stringify({ error: { message: "boom", type: "server_error" } }),
    });
    expect((await providerErrorOf(provider.chat(chatRequest, signal))).providerRequestId).toBe("apim-1");
  });

  it("scrubs the API key even when a server echoes it", async () => {
    const provider = await providerAnswering({
      status: 401,
      headers: jsonHeaders,
      body: errorBody(`Incorrect API key provided: ${testApiKey}.`, "invalid_request_error", "invalid_api_key"),
    });
    const error = await providerErrorOf(provider.chat(chatRequest, signal));
    expect(error.kind).toBe("auth");
    expect(error.message).toBe("openai-test: Incorrect API key provided: [REDACTED].");
  });

  it("classifies an in-stream error event by its type", async () => {
    const provider = await providerAnswering({
      status: 200,
      headers: { ...sseHeaders, "x-request-id": "req_stream" },
      body: openAISse([
        chunk([{ index: 0, delta: { content: "x" }, finish_reason: null }]),
        { error: { message: "Rate limit reached for tokens", type: "tokens", code: "rate_limit_exceeded" } },
      ]),
    });
    const { parts, error } = await streamUntilError(provider.streamChat(chatRequest, signal));
    expect(parts).toEqual([{ type: "delta", text: "x" }]);
    expect(error).toMatchObject({ kind: "rate_limited", status: undefined, providerRequestId: "req_stream" });
    expect(error.message).toBe("openai-test: Rate limit reached for tokens");
  });
});
