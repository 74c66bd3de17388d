import { createServer } from "node:http";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { pooledFetch } from "../../src/providers/pooled-fetch.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { listenOnLoopback } from "../support/loopback-server.js";

// Kill tests for src/providers/pooled-fetch.ts (mutation testing, see docs/testing.md).

/** What the echo server received: method, header lines as sent (name, value, name, value...) and body. */
interface Echo {
  method: string;
  rawHeaders: string[];
  body: string;
}

/** A loopback server that answers every request with what it received, as JSON. */
async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const echo: Echo = { method: req.method ?? "", rawHeaders: req.rawHeaders, body };
      res.writeHead(200, jsonHeaders);
      res.end(JSON.stringify(echo));
    });
  });
  return listenOnLoopback(server, "echo server");
}

/** The values of the header lines named `name` (case-insensitive), one per line received. */
function headerLines(echo: Echo, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < echo.rawHeaders.length; i += 2) {
    if (echo.rawHeaders[i]?.toLowerCase() === name) values.push(echo.rawHeaders[i + 1] ?? "");
  }
  return values;
}

describe("pooledFetch request headers", () => {
  it("sends a header given as a list of values as one comma-separated header", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/x`, {
        method: "POST",
        headers: { "X-Multi": ["a", "b"], "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(200);
      expect(server.requests[0]?.headers["x-multi"]).toBe("a, b");
    } finally {
      await agent.close();
      await server.close();
    }
  });

  it("sends a header given as a list of values on one header line, not one line per value", async () => {
    const server = await startEchoServer();
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/x`, {
        method: "POST",
        headers: { "x-multi": ["a", "b"], "content-type": "application/json" },
        body: "{}",
      });
      const echo = (await response.json()) as Echo;
      expect(headerLines(echo, "x-multi")).toEqual(["a, b"]);
    } finally {
      await agent.close();
      await server.close();
    }
  });

  it("sends headers given as name-value pairs, skipping pairs that lack a name or a value", async () => {
    const server = await startEchoServer();
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/x`, {
        method: "POST",
        headers: [["X-Pair", "p"], [], ["x-lone"], ["x-other", "o"]],
        body: "{}",
      });
      expect(response.status).toBe(200);
      const echo = (await response.json()) as Echo;
      expect(headerLines(echo, "x-pair")).toEqual(["p"]);
      expect(headerLines(echo, "x-other")).toEqual(["o"]);
      expect(headerLines(echo, "x-lone")).toEqual([]);
    } finally {
      await agent.close();
      await server.close();
    }
  });
});

describe("pooledFetch bodies it hands to the global fetch", () => {
  it("sends the method, headers and body of a call whose body is a Blob", async () => {
    const server = await startEchoServer();
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/files`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-call": "blob" },
        body: new Blob(['{"q":2}']),
      });
      const echo = (await response.json()) as Echo;
      expect(echo.method).toBe("POST");
      expect(headerLines(echo, "x-call")).toEqual(["blob"]);
      expect(echo.body).toBe('{"q":2}');
    } finally {
      await agent.close();
      await server.close();
    }
  });

  it("sends a call whose body is a FormData as a multipart form", async () => {
    // The SDKs send file uploads this way; the pool's request cannot encode a form, the global fetch can.
    const server = await startEchoServer();
    const agent = new Agent();
    try {
      const form = new FormData();
      form.append("purpose", "batch");
      const response = await pooledFetch(agent)(`${server.url}/v1/files`, { method: "POST", body: form });
      const echo = (await response.json()) as Echo;
      expect(echo.method).toBe("POST");
      const [contentType] = headerLines(echo, "content-type");
      const boundary = /^multipart\/form-data; boundary=(\S+)$/.exec(contentType ?? "")?.[1];
      expect(boundary).toBeDefined();
      expect(echo.body).toContain(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`);
    } finally {
      await agent.close();
      await server.close();
    }
  });
});
