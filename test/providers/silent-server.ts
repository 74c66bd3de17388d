import { createServer } from "node:http";
import { type Listening, listenOnLoopback } from "../support/loopback-server.js";

/** A loopback HTTP server that reads every request and never answers it, for calls that must time out. */
export type SilentServer = Listening;

/** Starts a server that accepts connections and requests but writes nothing back. */
export async function startSilentServer(): Promise<SilentServer> {
  const server = createServer((req) => {
    req.resume();
  });
  return listenOnLoopback(server, "silent server");
}
