import OpenAI, { AzureOpenAI } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { azureHeaders, azurePath, frameJson, post, sseFrames } from "./emulator-test-helpers.js";

let emulator: Emulator;
let client: AzureOpenAI;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: "azure-test-key" });
  client = new AzureOpenAI({
    apiKey: "azure-test-key",
    endpoint: emulator.url,
    apiVersion: "2024-10-21",
    deployment: "chat-deploy",
    maxRetries: 0,
  });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe("Azure OpenAI chat", () => {
  it("answers through the SDK with the deployment as model and the api-key header", async () => {
    const completion = await client.chat.completions.create({
      model: "ignored",
      messages: [{ role: "user", content: "Hello, world" }],
    });
    expect(completion.model).toBe("chat-deploy");
    expect(completion.choices[0]?.message.content).toBe("Echo: Hello, world");
    expect(completion.usage).toMatchObject({ prompt_tokens: 8, completion_tokens: 3 });
    const record = emulator.records[0];
    expect(record?.request).toMatchObject({ api: "azure", operation: "chat", model: "chat-deploy" });
    expect(record?.request.path).toBe("/openai/deployments/chat-deploy/chat/completions?api-version=2024-10-21");
    expect(record?.request.headers["api-key"]).toBe("azure-test-key");
  });

  it("carries prompt_filter_results, content_filter_results and Azure's headers", async () => {
    const response = await post(
      `${emulator.url}${azurePath("gpt-4o", "chat/completions")}`,
      { messages: [{ role: "user", content: "Hi" }] },
      azureHeaders,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("apim-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get("x-ms-deployment-name")).toBe("gpt-4o");
    expect(response.headers.get("x-ratelimit-remaining-requests")).not.toBeNull();
    const body: unknown = await response.json();
    expect(body).toMatchObject({
      model: "gpt-4o",
      prompt_filter_results: [
        {
          prompt_index: 0,
          content_filter_results: { hate: { filtered: false, severity: "safe" }, jailbreak: { detected: false } },
        },
      ],
      choices: [
        {
          finish_reason: "stop",
          content_filter_results: {
            sexual: { filtered: false, severity: "safe" },
            protected_material_text: { detected: false },
          },
        },
      ],
    });
  });

  it("streams a prompt_filter_results chunk first, then the OpenAI chunks with filter results", async () => {
    const response = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "a b" }] },
      azureHeaders,
    );
    const frames = sseFrames(await response.text());
    expect(frames.at(-1)?.data).toBe("[DONE]");
    const chunks = frames.slice(0, -1).map(frameJson);
    expect(chunks[0]).toMatchObject({
      choices: [],
      id: "",
      model: "",
      object: "",
      created: 0,
      prompt_filter_results: [{ prompt_index: 0 }],
    });
    expect(chunks[1]).toMatchObject({
      model: "dep",
      choices: [{ delta: { role: "assistant", content: "" }, content_filter_results: {} }],
    });
    expect(chunks[2]).toMatchObject({
      choices: [{ delta: { content: "Echo:" }, content_filter_results: { hate: { filtered: false } } }],
    });
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: "stop", content_filter_results: {} }] });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 8, completion_tokens: 3 } });
  });

  it("reports a filtered answer with finish_reason content_filter", async () => {
    const completion = await client.chat.completions.create(
      { model: "x", messages: [{ role: "user", content: "Hi" }] },
      { headers: { "x-emulator-fault": "code=content_filter" } },
    );
    expect(completion.choices[0]?.finish_reason).toBe("content_filter");
    expect(completion.choices[0]).toMatchObject({
      content_filter_results: { sexual: { filtered: true, severity: "high" } },
    });
  });

  it("answers the content filter 400 with innererror", async () => {
    const error = await client.chat.completions
      .create(
        { model: "x", messages: [{ role: "user", content: "Hi" }] },
        { headers: { "x-emulator-fault": "status=400;code=content_filter" } },
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    if (!(error instanceof OpenAI.BadRequestError)) return;
    expect(error.code).toBe("content_filter");
    expect(error.error).toMatchObject({
      param: "prompt",
      status: 400,
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: { sexual: { filtered: true, severity: "high" } },
      },
    });
  });
});

describe("Azure OpenAI completions and embeddings", () => {
  it("answers legacy completions with filter annotations", async () => {
    const completion = await client.completions.create({ model: "x", prompt: "a b" });
    expect(completion.model).toBe("chat-deploy");
    expect(completion.choices[0]).toMatchObject({
      text: "Echo: a b",
      content_filter_results: { hate: { filtered: false } },
    });
  });

  it("answers embeddings (base64 by default through the SDK)", async () => {
    const embeddings = new AzureOpenAI({
      apiKey: "azure-test-key",
      endpoint: emulator.url,
      apiVersion: "2024-10-21",
      maxRetries: 0,
    });
    const response = await embeddings.embeddings.create({ model: "embed-deploy", input: "one two", dimensions: 4 });
    expect(response.model).toBe("embed-deploy");
    expect(response.data[0]?.embedding).toHaveLength(4);
    expect(response.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    expect(emulator.records[0]?.request).toMatchObject({ api: "azure", operation: "embedding", model: "embed-deploy" });
  });
});

describe("Azure OpenAI models", () => {
  it("lists models with Azure's capability fields", async () => {
    const response = await fetch(`${emulator.url}/openai/models?api-version=2024-10-21`, { headers: azureHeaders });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      object: "list",
      data: expect.arrayContaining([
        expect.objectContaining({
          id: "text-embedding-3-small",
          status: "succeeded",
          capabilities: expect.objectContaining({ embeddings: true }),
        }),
      ]),
    });
    expect(emulator.records[0]?.request).toMatchObject({ api: "azure", operation: "models" });
  });
});

describe("Azure OpenAI gatekeeping", () => {
  it("answers 404 Resource not found without api-version", async () => {
    const response = await post(
      `${emulator.url}/openai/deployments/dep/chat/completions`,
      { messages: [] },
      azureHeaders,
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
  });

  it("answers 401 with Azure's body for a wrong or missing key, and accepts a Bearer token", async () => {
    const wrong = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { messages: [] },
      { "api-key": "nope" },
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: { code: "401", message: expect.stringContaining("Access denied due to invalid subscription key") },
    });
    const missing = await post(`${emulator.url}${azurePath("dep", "chat/completions")}`, { messages: [] }, {});
    expect(await missing.json()).toMatchObject({
      error: { code: "401", message: expect.stringContaining("missing subscription key") },
    });
    const bearer = await post(
      `${emulator.url}${azurePath("dep", "chat/completions")}`,
      { messages: [{ role: "user", content: "x" }] },
      { authorization: "Bearer azure-test-key" },
    );
    expect(bearer.status).toBe(200);
  });

  it("answers 404 for an unknown Azure path", async () => {
    const response = await post(
      `${emulator.url}/openai/deployments/dep/images/edits?api-version=2024-10-21`,
      {},
      azureHeaders,
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
  });
});
