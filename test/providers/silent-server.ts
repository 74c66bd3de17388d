import { createServer } from "node:http";

/** A loopback HTTP server that reads every request and never answers it, for calls that must time out. */
export interface SilentServer {
  url: string;
  close(): Promise<void>;
}

/** Starts a server that accepts connections and requests but writes nothing back. */
export async function startSilentServer(): Promise<SilentServer> {
  const server = createServer((req) => {
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("silent server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
