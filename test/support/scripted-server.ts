import { createServer, type IncomingHttpHeaders } from "node:http";
import { listenOnLoopback } from "./loopback-server.js";

/** One canned HTTP answer. */
export interface ScriptedResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

/** What the scripted server received. */
export interface ScriptedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

/** A loopback HTTP server answering every request with the same canned response. */
export interface ScriptedServer {
  url: string;
  requests: ScriptedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a loopback HTTP server that answers with a hand-written response, for wire shapes the emulator
 * does not produce (cache tokens, a stream without usage, out-of-order embeddings, Azure's filter-only first
 * chunk, error bodies of other vendors). Real HTTP, so the SDK parses these answers as it parses a provider's.
 */
export async function startScriptedServer(response: ScriptedResponse): Promise<ScriptedServer> {
  const requests: ScriptedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body: unknown = text === "" ? undefined : JSON.parse(text);
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    });
  });
  return { ...(await listenOnLoopback(server, "scripted server")), requests };
}

/** Headers of a server-sent-event answer. */
export const sseHeaders = { "content-type": "text/event-stream" };

/** Headers of a JSON answer. */
export const jsonHeaders = { "content-type": "application/json" };
