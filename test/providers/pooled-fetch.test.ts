import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pooledFetch, streamedCall } from "../../src/providers/pooled-fetch.js";

let server: http.Server;
let base: string;
const agent = new Agent();
const fetchOnPool = pooledFetch(agent);
let releaseStream: () => void = () => undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      switch (req.url) {
        case "/json":
          res.writeHead(201, {
            "content-type": "application/json",
            "set-cookie": ["a=1", "b=2"],
            "x-request-id": "req_1",
          });
          res.end(
            JSON.stringify({
              method: req.method,
              body,
              auth: req.headers.authorization ?? null,
              encoding: req.headers["accept-encoding"] ?? null,
            }),
          );
          return;
        case "/framing":
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              body,
              length: req.headers["content-length"] ?? null,
              chunked: req.headers["transfer-encoding"] ?? null,
            }),
          );
          return;
        case "/gzip":
          res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
          res.end(gzipSync(JSON.stringify({ compressed: true })));
          return;
        case "/empty":
          res.writeHead(204);
          res.end();
          return;
        case "/events":
          res.writeHead(200, { "content-type": "text/event-stream" });
          res.write("data: first\n\n");
          releaseStream = () => res.end("data: last\n\n");
          return;
        case "/hang":
          return;
        default:
          res.writeHead(404, { "content-type": "application/json" });
          res.end('{"error":"not found"}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await agent.close();
});

describe("pooledFetch", () => {
  it("sends method, headers and body, and answers a Response with status, every header and the body", async () => {
    const response = await fetchOnPool(`${base}/json`, {
      method: "POST",
      headers: new Headers({ authorization: "Bearer k", "content-type": "application/json" }),
      body: '{"q":1}',
    });
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(201);
    expect(response.ok).toBe(true);
    expect(response.headers.get("x-request-id")).toBe("req_1");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await response.json()).toEqual({ method: "POST", body: '{"q":1}', auth: "Bearer k", encoding: null });
  });

  it("sends a streaming call's body (duplex half) with its length in bytes, as a plain call's", async () => {
    const body = '{"q":"café ☕"}';
    for (const init of [streamedCall, {}]) {
      const response = await fetchOnPool(`${base}/framing`, { method: "POST", body, ...init });
      expect(await response.json()).toEqual({ body, length: String(Buffer.byteLength(body)), chunked: null });
    }
  });

  it("takes headers as a record or as pairs, and error statuses as answers", async () => {
    const fromRecord = await fetchOnPool(`${base}/json`, { method: "GET", headers: { Authorization: "Bearer r" } });
    expect(((await fromRecord.json()) as { auth: string }).auth).toBe("Bearer r");
    const fromPairs = await fetchOnPool(`${base}/missing`, { headers: [["authorization", "Bearer p"]] });
    expect(fromPairs.status).toBe(404);
    expect(await fromPairs.text()).toBe('{"error":"not found"}');
  });

  it("decodes a compressed body and gives statuses without a body a null one", async () => {
    expect(await (await fetchOnPool(`${base}/gzip`)).json()).toEqual({ compressed: true });
    const empty = await fetchOnPool(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
  });

  it("passes an event stream on as it arrives, before the server ends it", async () => {
    const response = await fetchOnPool(`${base}/events`);
    const body = response.body;
    if (body === null) throw new Error("no body");
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const first = await reader.read();
    expect(decoder.decode(first.value)).toBe("data: first\n\n");
    releaseStream();
    let rest = "";
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += decoder.decode(part.value);
    expect(rest).toBe("data: last\n\n");
  });

  it("rejects with the signal's AbortError when the caller aborts a pending call", async () => {
    const controller = new AbortController();
    const pending = fetchOnPool(`${base}/hang`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("hands a Request object to the global fetch on the same pool", async () => {
    const response = await fetchOnPool(new Request(`${base}/json`, { method: "PUT", body: "x" }));
    expect(await response.json()).toMatchObject({ method: "PUT", body: "x" });
  });
});
