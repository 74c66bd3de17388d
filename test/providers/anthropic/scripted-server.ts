import { createServer, type IncomingHttpHeaders } from "node:http";

/** One canned HTTP answer. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** What the scripted server received. */
export interface ScriptedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A local HTTP server answering every request with the same canned response. */
export interface ScriptedServer {
  url: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a loopback HTTP server that answers with a hand-written response, for wire shapes the emulator
 * does not produce (cache tokens, odd stop reasons, statuses without a fault switch). Real HTTP, so the
 * SDK parses these answers exactly as it parses Anthropic's.
 */
export async function startScriptedServer(response: ScriptedResponse): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      requests.push({ path: req.url ?? "", headers: req.headers, body: text === "" ? undefined : JSON.parse(text) });
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("scripted server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Server-sent events in Anthropic's framing: `event:` name, one `data:` JSON line, blank line. */
export function sse(events: Array<{ type: string } & Record<string, unknown>>): string {
  return events.map((event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`).join("");
}
