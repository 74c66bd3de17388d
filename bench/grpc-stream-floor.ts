// What serving a gRPC server stream costs in Node before the gateway does anything: the same method (StreamChat,
// 64 one-word messages per call, as fast as the server can write them) served by connect-node over
// `http2.createServer` as the gateway serves it, and by the core `node:http2` 'stream' event writing each
// message's envelope by hand. Both encode every message with protobuf-es. The server runs in a child process
// whose CPU (user + system) is read before and after; 16 calls at a time on one HTTP/2 connection. It bounds
// what the gateway's per-chunk CPU can reach while its streams go through connect-es.
//
//   npm run build && node dist/bench/grpc-stream-floor.js [STREAMS=2000]
import { fork } from "node:child_process";
import http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { LLMService, StreamChatResponseSchema } from "../gen/llm/v1/llm_service_pb.js";
import { benchPayloads, promptOfWords } from "./setup/bench-payloads.js";

type Mode = "connect" | "raw";
const messagesPerStream = 64;
const concurrency = 16;
const words = Array.from({ length: messagesPerStream }, (_, i) => ` word${i}`);

function envelope(delta: string): Buffer {
  const message = toBinary(StreamChatResponseSchema, create(StreamChatResponseSchema, { delta }));
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** The child: serves StreamChat the `mode` way and reports its port, then its CPU on request. */
function serve(mode: Mode): void {
  let server: http2.Http2Server;
  if (mode === "connect") {
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(LLMService, {
          async *streamChat() {
            for (const delta of words) {
              await null;
              yield { delta };
            }
          },
        }),
    });
    server = http2.createServer({}, handler);
  } else {
    server = http2.createServer();
    server.on("stream", (stream) => {
      stream.on("data", () => undefined);
      stream.on("error", () => undefined);
      stream.on("end", async () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        for (const delta of words) {
          await null;
          stream.write(envelope(delta));
        }
        stream.end();
      });
    });
  }
  server.listen(0, "127.0.0.1", () => {
    const address = server.address();
    process.send?.({ port: typeof address === "object" && address !== null ? address.port : 0 });
  });
  process.on("message", () => {
    const cpu = process.cpuUsage();
    process.send?.({ cpuUs: cpu.user + cpu.system });
  });
}

async function measure(mode: Mode, streams: number): Promise<string> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", mode]);
  const reply = <T>(): Promise<T> => new Promise((resolve) => child.once("message", (m) => resolve(m as T)));
  const { port } = await reply<{ port: number }>();
  const cpu = async (): Promise<number> => {
    const answer = reply<{ cpuUs: number }>();
    child.send("cpu");
    return (await answer).cpuUs;
  };
  const spec = benchPayloads.grpcChat({ prompt: promptOfWords(63) }, true);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  const call = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": spec.path, ...spec.headers });
      stream.on("data", () => undefined);
      stream.on("error", reject);
      stream.on("close", () => resolve());
      stream.end(spec.body);
    });
  const run = async (count: number): Promise<void> => {
    let left = count;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left-- > 0) await call();
      }),
    );
  };
  try {
    await run(500);
    const before = await cpu();
    await run(streams);
    const perStream = ((await cpu()) - before) / streams;
    return `${mode.padEnd(8)} ${perStream.toFixed(0)} µs of server CPU per stream, ${(perStream / messagesPerStream).toFixed(1)} µs per message`;
  } finally {
    session.destroy();
    child.kill();
  }
}

if (process.argv[2] === "--serve") {
  serve(process.argv[3] === "connect" ? "connect" : "raw");
} else {
  const streams = Number(process.argv[2] ?? 2000);
  for (const mode of ["raw", "connect", "raw", "connect"] as const) console.log(await measure(mode, streams));
}
