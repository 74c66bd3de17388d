import { createServer, type Socket } from "node:net";

/** A loopback TCP server that answers every request with the same raw bytes, however malformed. */
export interface RawAnswerServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a server that writes `answer` as soon as a request arrives and closes the connection shortly after,
 * for answers no HTTP server library would write: a status line that is not HTTP, a chunked body whose chunk
 * size is not hexadecimal.
 */
export async function startRawAnswerServer(answer: string): Promise<RawAnswerServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.once("data", () => {
      socket.write(answer);
      setTimeout(() => socket.destroy(), 100).unref();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("raw answer server has no TCP address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Not HTTP at all: a client's parser rejects the status line. */
export const notHttpAnswer = "HELLO THERE\r\n\r\n";

/** A 200 JSON answer whose chunked body breaks after its first chunk (the next chunk size is not hex). */
export const brokenChunkedJsonAnswer =
  'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n5\r\n{"id"\r\nzz\r\n';
