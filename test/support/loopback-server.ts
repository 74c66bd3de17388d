import type { Server } from "node:http";

/** A test server listening on a free loopback port. */
export interface Listening {
  url: string;
  /** Drops every connection, then stops listening. */
  close(): Promise<void>;
}

/** Makes `server` listen on a free loopback port; `name` says which server failed to get a TCP address. */
export async function listenOnLoopback(server: Server, name: string): Promise<Listening> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error(`${name} has no TCP address`);
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
