import { createServer } from "node:http";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { createOpenAIProvider } from "../../src/providers/openai/create-openai-provider.js";
import { pooledFetch } from "../../src/providers/pooled-fetch.js";
import { providerErrorOf } from "../support/provider-error-of.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { chatRequest } from "./openai/scripted-openai-provider.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { brokenChunkedJsonAnswer, startRawAnswerServer } from "./raw-answer-server.js";

// Kill tests for src/providers/pooled-fetch.ts (mutation testing, see docs/testing.md): calls without a body
// go through the pool (which asks for no compression, unlike the global fetch), a JSON answer is read whole
// before the Response is handed over, and every content-encoding fetch decodes is decoded.

describe("pooledFetch calls without a body", () => {
  it("sends a call whose body is undefined through the pool, which asks for no compression", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: '{"data":[]}' });
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/models`, { method: "GET" });
      expect(await response.json()).toEqual({ data: [] });
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]?.method).toBe("GET");
      expect(server.requests[0]?.headers["accept-encoding"]).toBeUndefined();
    } finally {
      await agent.close();
      await server.close();
    }
  });

  it("sends a call whose body is null through the pool, which asks for no compression", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/x`, { method: "POST", body: null });
      expect(response.status).toBe(200);
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]?.method).toBe("POST");
      expect(server.requests[0]?.headers["accept-encoding"]).toBeUndefined();
    } finally {
      await agent.close();
      await server.close();
    }
  });
});

describe("pooledFetch JSON answers", () => {
  it("reads the body whole first, so a body cut by a protocol error fails the call as a lost connection", async () => {
    // Read whole, the cut fails the fetch itself, which the SDK reports as a connection error (retryable).
    // Handed over as a stream, it would fail the SDK's json() instead, an unexpected (internal) failure.
    const server = await startRawAnswerServer(brokenChunkedJsonAnswer);
    try {
      const provider = createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
      const error = await providerErrorOf(provider.chat(chatRequest, new AbortController().signal));
      expect(error.kind).toBe("unavailable");
      expect(error.retryable).toBe(true);
      expect(error.message).toBe("openai-test: connection failed");
    } finally {
      await server.close();
    }
  });
});

const compressors: Record<string, (data: string) => Buffer> = {
  "x-gzip": (data) => gzipSync(data),
  deflate: (data) => deflateSync(data),
  br: (data) => brotliCompressSync(data),
};

describe("pooledFetch compressed answers", () => {
  it.each(Object.keys(compressors))("decodes a JSON body sent with content-encoding %s", async (encoding) => {
    const compress = compressors[encoding];
    if (compress === undefined) throw new Error(`no compressor for ${encoding}`);
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": encoding });
      res.end(compress(JSON.stringify({ encoding, text: "Hello" })));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("server has no TCP address");
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`http://127.0.0.1:${address.port}/v1/x`, {
        method: "POST",
        headers: jsonHeaders,
        body: "{}",
      });
      expect(await response.json()).toEqual({ encoding, text: "Hello" });
    } finally {
      await agent.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
