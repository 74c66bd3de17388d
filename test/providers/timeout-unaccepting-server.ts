import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";

/** A local TCP port where a connect attempt never completes, and how to release it. */
export interface UnacceptingServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Source of the worker: listens with a backlog of one, then blocks its thread so it never accepts. */
const listenerSource = `
const { workerData, parentPort } = require("node:worker_threads");
const server = require("node:net").createServer().listen({ host: "127.0.0.1", port: 0, backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  Atomics.wait(workerData, 0, 0);
  server.close();
});
`;

/**
 * Starts a listener that never accepts, and fills its accept queue: the kernel then drops further SYNs, so a
 * new connection hangs in connect (SYN retransmits) like a blackholed address, offline and deterministic.
 * The listener runs in a worker thread blocked in Atomics.wait, so libuv never accepts on it.
 */
export async function startUnacceptingServer(): Promise<UnacceptingServer> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(listenerSource, { eval: true, workerData: release });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", (value: unknown) =>
      typeof value === "number" ? resolve(value) : reject(new Error("no port")),
    );
    worker.once("error", reject);
  });
  const fillers: Socket[] = [];
  while (await connects(port, fillers)) {
    if (fillers.length > 64) throw new Error("the listener keeps accepting connections");
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of fillers) socket.destroy();
      Atomics.store(release, 0, 1);
      Atomics.notify(release, 0);
      await worker.terminate();
    },
  };
}

/** Opens one connection; true if it completed within 300 ms (the queue had room), false if it hangs. */
function connects(port: number, sockets: Socket[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    sockets.push(socket);
    const timer = setTimeout(() => resolve(false), 300);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
