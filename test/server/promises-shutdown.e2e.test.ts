import http2 from "node:http2";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { ChatRequestSchema, Role, StreamChatResponseSchema } from "../../gen/llm/v1/llm_service_pb.js";
import { parseConfigObject } from "../../src/config/load-config.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { startEmulator } from "../../src/emulator/emulator.js";
import { startGateway } from "../../src/main.js";
import { models, startHarness, testKey } from "../support/gateway-harness.js";

/**
 * README, "Running it": on SIGTERM (the CLI's signal handler calls RunningGateway.close()) "the health service
 * turns NOT_SERVING, HTTP/2 clients get GOAWAY, in-flight calls get `server.shutdownGraceMs` to finish"; and
 * "Keys, budgets and usage": the ledger is "flushed at shutdown after in-flight calls end". The in-flight call is
 * a gRPC StreamChat made by hand on one node:http2 session, so that the GOAWAY frame and what that connection
 * can still do are visible. test/promises-cli.test.ts checks the same through a real SIGTERM.
 */

interface RawOutcome {
  text: string;
  /** Whether the final message (finish reason, usage) came. */
  finished: boolean;
  /** The grpc-status trailer (undefined when the stream was reset without one). */
  grpcStatus: string | undefined;
}

interface RawStream {
  /** Resolves at the first message received. */
  first: Promise<void>;
  /** The HTTP/2 stream id (known once the request went out). */
  id(): number | undefined;
  done: Promise<RawOutcome>;
}

/** A StreamChat as a gRPC client sends it, on the given HTTP/2 session. */
function rawStreamChat(session: http2.ClientHttp2Session, content: string): RawStream {
  const payload = toBinary(
    ChatRequestSchema,
    create(ChatRequestSchema, { model: models.openai, messages: [{ role: Role.USER, content }] }),
  );
  const frame = Buffer.alloc(5 + payload.length);
  frame.writeUInt32BE(payload.length, 1);
  Buffer.from(payload).copy(frame, 5);
  const stream = session.request({
    ":method": "POST",
    ":path": "/llm.v1.LLMService/StreamChat",
    "content-type": "application/grpc+proto",
    te: "trailers",
  });
  const outcome: RawOutcome = { text: "", finished: false, grpcStatus: undefined };
  let pending = Buffer.alloc(0);
  let firstArrived: () => void = () => undefined;
  const first = new Promise<void>((resolve) => (firstArrived = resolve));
  const readStatus = (headers: http2.IncomingHttpHeaders): void => {
    const status = headers["grpc-status"];
    if (status !== undefined) outcome.grpcStatus = Array.isArray(status) ? status[0] : status;
  };
  stream.on("response", readStatus);
  stream.on("trailers", readStatus);
  stream.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      const message = fromBinary(StreamChatResponseSchema, pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
      outcome.text += message.delta;
      if (message.usage) outcome.finished = true;
      firstArrived();
    }
  });
  stream.on("error", () => undefined);
  const done = new Promise<RawOutcome>((resolve) => stream.on("close", () => resolve(outcome)));
  stream.end(frame);
  return { first, id: () => stream.id, done };
}

const words = "one two three four five six seven eight nine ten";

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("shutdown drain (README: Running it)", () => {
  it("lets an in-flight stream finish, sends GOAWAY on its connection, refuses new connections, and turns health NOT_SERVING", async () => {
    // 12 chunks, 40 ms apart: the stream runs about half a second, well inside the 5 s grace.
    const h = await startHarness({ server: { shutdownGraceMs: 5_000 }, emulator: { chunkDelayMs: 40 } });
    const session = http2.connect(h.gateway.url);
    session.on("error", () => undefined);
    const health = createClient(Health, createGrpcTransport({ baseUrl: h.gateway.url }));
    const watched: Status[] = [];
    let closing: Promise<void> | undefined;
    const stopWatching = new AbortController();
    const watching = (async () => {
      try {
        for await (const update of health.watch({ service: "llm.v1.LLMService" }, { signal: stopWatching.signal })) {
          watched.push(update.status);
          // A Watch is an in-flight call too: left open, it would hold the drain for the whole grace period.
          if (update.status === Status.NOT_SERVING) stopWatching.abort();
        }
      } catch {
        // Cancelled above.
      }
    })();
    try {
      const inFlight = rawStreamChat(session, words);
      await within(5_000, "first chunk", inFlight.first);
      const goaway = new Promise<{ code: number; lastStreamId: number }>((resolve) =>
        session.once("goaway", (code: number, lastStreamId: number) => resolve({ code, lastStreamId })),
      );

      const closeStarted = performance.now();
      closing = h.gateway.close();
      let closedAfterMs = Number.NaN;
      void closing.then(() => (closedAfterMs = performance.now() - closeStarted));

      // Health: every registered service is NOT_SERVING from the start of the drain.
      expect(h.gateway.health.get("")).toBe(Status.NOT_SERVING);
      expect([...h.gateway.health.entries()].every(([, status]) => status === Status.NOT_SERVING)).toBe(true);

      // GOAWAY (NO_ERROR) on the connection with the stream in flight; the last stream it will serve is that one.
      const frame = await within(2_000, "GOAWAY", goaway);
      expect(frame.code).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(frame.lastStreamId).toBe(inFlight.id());
      // A new call on that connection does not start (the client honours the GOAWAY) ...
      expect(() => rawStreamChat(session, "too late")).toThrow(/GOAWAY/);
      // ... and a new connection is not served.
      await expect(
        fetch(`${h.gateway.url}/llm.v1.LLMService/ListModels`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        }),
      ).rejects.toThrow();

      // The in-flight stream finishes whole, with status OK.
      const outcome = await within(5_000, "end of the in-flight stream", inFlight.done);
      expect(outcome).toEqual({ text: `Echo: ${words}`, finished: true, grpcStatus: "0" });
      expect(h.emulator.records).toHaveLength(1);

      // close() returns once the stream ended, without waiting out the grace period.
      await closing;
      expect(closedAfterMs).toBeLessThan(3_000);
      await watching;
      expect(watched).toEqual([Status.SERVING, Status.NOT_SERVING]);
    } finally {
      session.destroy();
      await (closing ?? h.gateway.close());
      await h.emulator.close();
    }
  });

  it("aborts a call still running when shutdownGraceMs is over: the stream ends with an error, never a clean end, and the upstream request is aborted", async () => {
    // 32 chunks, 100 ms apart: about 3 s, far past the 300 ms grace.
    const h = await startHarness({ server: { shutdownGraceMs: 300 }, emulator: { chunkDelayMs: 100 } });
    const session = http2.connect(h.gateway.url);
    session.on("error", () => undefined);
    try {
      const inFlight = rawStreamChat(session, `${words} ${words} ${words}`);
      await inFlight.first;
      const closeStarted = performance.now();
      await h.gateway.close();
      const closedAfterMs = performance.now() - closeStarted;
      expect(closedAfterMs).toBeGreaterThanOrEqual(250);
      expect(closedAfterMs).toBeLessThan(1_500);
      const outcome = await inFlight.done;
      expect(outcome.finished).toBe(false);
      expect(outcome.grpcStatus).not.toBe("0");
      expect(`Echo: ${words} ${words} ${words}`.startsWith(outcome.text)).toBe(true);
      const [record] = h.emulator.records;
      await record?.done;
      expect(record?.aborted).toBe(true);
    } finally {
      session.destroy();
      await h.emulator.close();
    }
  });

  it("writes the ledger record of a call that finished during the drain before close() returns", async () => {
    const emulator = await startEmulator({ apiKey: testKey, chunkDelayMs: 40 });
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-drain-"));
    const path = join(dir, "gateway.db");
    // A flush interval far longer than the test: only the flush at shutdown can write the record.
    const config = parseConfigObject(
      {
        server: { host: "127.0.0.1", port: 0, shutdownGraceMs: 5_000 },
        logging: { level: "silent" },
        storage: { sqlite: { path, flushIntervalMs: 600_000 } },
        providers: [{ name: "openai", type: "openai", apiKey: "${KEY}", baseUrl: `${emulator.url}/v1` }],
        models: [{ name: models.openai, targets: [{ provider: "openai", model: "gpt-4o" }] }],
      },
      { env: { KEY: testKey } },
    );
    const gateway = await startGateway(config, undefined, telemetryEnv({}));
    const session = http2.connect(gateway.url);
    session.on("error", () => undefined);
    let closing: Promise<void> | undefined;
    try {
      const inFlight = rawStreamChat(session, words);
      await inFlight.first;
      closing = gateway.close();
      await closing;
      expect((await inFlight.done).grpcStatus).toBe("0");
      const db = new Database(path, { readonly: true });
      try {
        const rows = db.prepare("SELECT model, provider, status, stream, completion_tokens FROM requests").all();
        expect(rows).toEqual([
          { model: models.openai, provider: "openai", status: "ok", stream: 1, completion_tokens: 11 },
        ]);
      } finally {
        db.close();
      }
    } finally {
      session.destroy();
      await (closing ?? gateway.close());
      await emulator.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
