import http2 from "node:http2";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { grpcFrame, RawHttp2Client } from "../support/raw-http2.js";
import { serveGateway, servedModel, within, type ServedGateway } from "../support/served-gateway.js";

/**
 * SIGTERM to a real `llm-gateway serve` child process: health turns NOT_SERVING while the port still serves for
 * drainDelayMs, then new connections are refused; calls in flight get shutdownGraceMs and those still running
 * then end with UNAVAILABLE; open Health.Watch streams and idle connections do not hold the shutdown; the process
 * exits 0 as soon as its connections are gone.
 */

const providerKey = "sk-hardening-drain-key";
/** Delay between the emulator's stream chunks. */
const chunkDelayMs = 50;
let emulator: Emulator;
let dir: string;
const started: ServedGateway[] = [];

beforeAll(async () => {
  // A prompt containing "HANG" is accepted upstream and never answered.
  emulator = await startEmulator({
    apiKey: providerKey,
    chunkDelayMs,
    fault: (request) => (JSON.stringify(request.body ?? null).includes("HANG") ? { hang: true } : undefined),
  });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-hardening-drain-"));
});
afterAll(async () => {
  for (const gateway of started) await gateway.stop();
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function gatewayWith(name: string, server: Record<string, unknown>): Promise<ServedGateway> {
  const gateway = await serveGateway({ dir, name, emulatorUrl: emulator.url, providerKey, server });
  started.push(gateway);
  return gateway;
}

const words = "one two three four five six seven eight nine ten";
/** About 0.6 s of chunks. */
const shortText = words;
/** About 5 s of chunks. */
const longText = `${words} ${words} ${words} ${words} ${words} ${words} ${words} ${words}`;

function chatRequest(content: string) {
  return { model: servedModel, messages: [{ role: Role.USER, content }] };
}

/** gRPC over HTTP/2, on a connection of its own. */
function grpcTransport(url: string): Transport {
  return createGrpcTransport({ baseUrl: url });
}

/** Connect (JSON) over HTTP/1.1, on connections of its own. */
function connectJsonTransport(url: string): Transport {
  return createConnectTransport({ baseUrl: url, httpVersion: "1.1" });
}

interface StreamOutcome {
  text: string;
  /** Whether the final message (usage) arrived. */
  finished: boolean;
  error: ConnectError | undefined;
  /** performance.now() when the stream ended. */
  endedAt: number;
}

/** A StreamChat, consumed whole; `started` resolves at its first message. */
function streamChat(
  client: Client<typeof LLMService>,
  content: string,
): { started: Promise<void>; done: Promise<StreamOutcome> } {
  let firstMessage: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstMessage = resolve));
  const done = (async () => {
    const outcome: StreamOutcome = { text: "", finished: false, error: undefined, endedAt: 0 };
    try {
      for await (const chunk of client.streamChat(chatRequest(content))) {
        outcome.text += chunk.delta;
        if (chunk.usage) outcome.finished = true;
        firstMessage();
      }
    } catch (error) {
      outcome.error = ConnectError.from(error);
    }
    outcome.endedAt = performance.now();
    firstMessage();
    return outcome;
  })();
  return { started, done };
}

/** Whether a TCP connection to the port is accepted (false: refused). */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Milliseconds from `since` until a TCP connection is refused, polling every 25 ms for at most `ms`. */
async function refusedAfter(port: number, since: number, ms: number): Promise<number> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (!(await accepts(port))) return performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`connections still accepted ${ms} ms later`);
}

/** Sends SIGTERM; returns performance.now() of the signal. */
function terminate(gateway: ServedGateway): number {
  gateway.child.kill("SIGTERM");
  return performance.now();
}

describe("llm-gateway serve on SIGTERM: drain delay", () => {
  it("reports NOT_SERVING while a new connection can still call during drainDelayMs, then refuses new connections", async () => {
    const drainDelayMs = 800;
    const gateway = await gatewayWith("drain-delay", { drainDelayMs, shutdownGraceMs: 10_000 });
    // A stream in flight keeps the process up past the delay, so refusal is the listener's doing, not an exit.
    const inFlight = streamChat(createClient(LLMService, grpcTransport(gateway.url)), longText);
    await within(5_000, "first message of the in-flight stream", inFlight.started);

    const signalledAt = terminate(gateway);
    await within(2_000, "'stopping' log line", gateway.line("stopping"));
    // New connections, during the delay: health says NOT_SERVING, calls are still served.
    const health = createClient(Health, grpcTransport(gateway.url));
    expect((await within(1_000, "Health.Check", health.check({ service: "" }))).status).toBe(Status.NOT_SERVING);
    expect((await health.check({ service: "llm.v1.LLMService" })).status).toBe(Status.NOT_SERVING);
    for (const transport of [grpcTransport(gateway.url), connectJsonTransport(gateway.url)]) {
      const answer = await within(
        1_000,
        "Chat during the drain delay",
        createClient(LLMService, transport).chat(chatRequest(words)),
      );
      expect(answer.message?.content).toBe(`Echo: ${words}`);
    }
    // A new connection late in the delay is served too (the wait is the behaviour under test).
    await new Promise((resolve) => setTimeout(resolve, signalledAt + drainDelayMs - 250 - performance.now()));
    const late = await within(
      1_000,
      "Chat late in the drain delay",
      createClient(LLMService, connectJsonTransport(gateway.url)).chat(chatRequest(words)),
    );
    expect(late.message?.content).toBe(`Echo: ${words}`);
    const servedUntil = performance.now() - signalledAt;
    expect(servedUntil).toBeLessThan(drainDelayMs);

    // After the delay the listener is closed.
    const refused = await refusedAfter(gateway.port, signalledAt, 3_000);
    console.log(
      `drain delay ${drainDelayMs} ms: calls on new connections served until ${servedUntil.toFixed(0)} ms after SIGTERM, ` +
        `connections refused from ${refused.toFixed(0)} ms`,
    );
    expect(refused).toBeGreaterThanOrEqual(drainDelayMs - 50);
    expect(refused).toBeLessThan(drainDelayMs + 1_000);

    // The stream in flight still finishes, then the process exits 0.
    const outcome = await within(10_000, "end of the in-flight stream", inFlight.done);
    expect(outcome).toMatchObject({ text: `Echo: ${longText}`, finished: true, error: undefined });
    expect(await within(3_000, "exit", gateway.exit)).toBe(0);
  }, 30_000);
});

describe("llm-gateway serve on SIGTERM: shutdownGraceMs", () => {
  it("lets short streams finish and ends long ones with UNAVAILABLE at the grace, over gRPC and Connect HTTP/1.1, then exits 0", async () => {
    const shutdownGraceMs = 1_500;
    const gateway = await gatewayWith("grace", { shutdownGraceMs });
    const grpc = createClient(LLMService, grpcTransport(gateway.url));
    const json = createClient(LLMService, connectJsonTransport(gateway.url));
    const streams = {
      grpcShort: streamChat(grpc, shortText),
      grpcLong: streamChat(grpc, longText),
      jsonShort: streamChat(json, shortText),
      jsonLong: streamChat(json, longText),
    };
    await within(5_000, "first message of the four streams", Promise.all(Object.values(streams).map((s) => s.started)));

    const signalledAt = terminate(gateway);
    const [grpcShort, grpcLong, jsonShort, jsonLong] = await within(
      shutdownGraceMs + 3_000,
      "end of the four streams",
      Promise.all([streams.grpcShort.done, streams.grpcLong.done, streams.jsonShort.done, streams.jsonLong.done]),
    );
    const code = await within(3_000, "exit", gateway.exit);
    const exitedAfter = performance.now() - signalledAt;
    const endedMs = (outcome: StreamOutcome | undefined): string => ((outcome?.endedAt ?? 0) - signalledAt).toFixed(0);
    console.log(
      `grace ${shutdownGraceMs} ms: short streams ended ${endedMs(grpcShort)} ms (gRPC) and ${endedMs(jsonShort)} ms (Connect) ` +
        `after SIGTERM; long ones ${endedMs(grpcLong)} ms (gRPC: ${grpcLong?.error?.message}) and ${endedMs(jsonLong)} ms ` +
        `(Connect: ${jsonLong?.error?.message}); exit ${code} after ${exitedAfter.toFixed(0)} ms`,
    );
    for (const short of [grpcShort, jsonShort]) {
      expect(short).toMatchObject({ text: `Echo: ${shortText}`, finished: true, error: undefined });
    }
    for (const long of [grpcLong, jsonLong]) {
      expect(long?.finished).toBe(false);
      expect(`Echo: ${longText}`.startsWith(long?.text ?? "-")).toBe(true);
      expect(long?.error?.code).toBe(Code.Unavailable);
      expect(long?.error?.rawMessage).toMatch(/the gateway is shutting down/);
      const endedAfter = (long?.endedAt ?? 0) - signalledAt;
      expect(endedAfter).toBeGreaterThanOrEqual(shutdownGraceMs - 100);
      expect(endedAfter).toBeLessThan(shutdownGraceMs + 1_000);
    }
    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(shutdownGraceMs + 1_500);
  }, 30_000);

  it("ends unary calls whose provider never answers with UNAVAILABLE at the grace, over gRPC and Connect HTTP/1.1", async () => {
    const shutdownGraceMs = 1_500;
    const gateway = await gatewayWith("grace-unary", { shutdownGraceMs });
    const calls = [grpcTransport(gateway.url), connectJsonTransport(gateway.url)].map(async (transport) => {
      try {
        await createClient(LLMService, transport).chat(chatRequest("HANG"));
        return { error: undefined, endedAt: performance.now() };
      } catch (error) {
        return { error: ConnectError.from(error), endedAt: performance.now() };
      }
    });
    // Both requests reached the provider.
    await within(
      5_000,
      "both requests upstream",
      (async () => {
        while (emulator.records.filter((r) => JSON.stringify(r.request.body).includes("HANG")).length < 2)
          await new Promise((resolve) => setTimeout(resolve, 20));
      })(),
    );
    const signalledAt = terminate(gateway);
    const outcomes = await within(shutdownGraceMs + 3_000, "end of the hung calls", Promise.all(calls));
    expect(await within(3_000, "exit", gateway.exit)).toBe(0);
    const exitedAfter = performance.now() - signalledAt;
    console.log(
      `hung unary calls ended ${outcomes.map((o) => `${(o.endedAt - signalledAt).toFixed(0)} ms (${o.error?.message})`).join(", ")} ` +
        `after SIGTERM; exit 0 after ${exitedAfter.toFixed(0)} ms (grace ${shutdownGraceMs} ms)`,
    );
    for (const outcome of outcomes) {
      expect(outcome.error?.code).toBe(Code.Unavailable);
      expect(outcome.error?.rawMessage).toMatch(/the gateway is shutting down/);
      expect(outcome.endedAt - signalledAt).toBeGreaterThanOrEqual(shutdownGraceMs - 100);
    }
    expect(exitedAfter).toBeLessThan(shutdownGraceMs + 1_500);
  }, 30_000);

  it("is not held past the grace by slow senders: partial HTTP/2 messages, HTTP/1.1 slowloris and a silent connection", async () => {
    // Request and header timeouts far longer than the grace: only the shutdown can end these connections.
    const shutdownGraceMs = 1_500;
    const gateway = await gatewayWith("slow-senders", {
      shutdownGraceMs,
      sniffTimeoutMs: 60_000,
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      idleTimeoutMs: 60_000,
    });
    const { port } = gateway;
    const h2 = await RawHttp2Client.connect(port, { ackSettings: true });
    await within(2_000, "server SETTINGS", h2.settled);
    for (let i = 0; i < 20; i++) {
      h2.request(
        [
          [":method", "POST"],
          [":scheme", "http"],
          [":path", "/llm.v1.LLMService/StreamChat"],
          [":authority", `127.0.0.1:${port}`],
          ["content-type", "application/grpc"],
          ["te", "trailers"],
        ],
        grpcFrame(64, Buffer.alloc(10, 0x0a)),
      );
    }
    const open = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: "127.0.0.1", port });
        socket.on("error", () => undefined);
        socket.once("connect", () => resolve(socket));
        socket.once("error", reject);
      });
    const [silent, headers, body] = await Promise.all([open(), open(), open()]);
    headers.write(`POST /llm.v1.LLMService/Chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    body.write(
      `POST /llm.v1.LLMService/Chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    const closed = [h2.socket, silent, headers, body].map(
      (socket) => new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now()))),
    );
    // A call on yet another connection answered: the server has read what came before it on the others.
    const health = createClient(Health, grpcTransport(gateway.url));
    expect((await within(2_000, "Health.Check", health.check({ service: "" }))).status).toBe(Status.SERVING);
    try {
      const signalledAt = terminate(gateway);
      const code = await within(shutdownGraceMs + 3_000, "exit", gateway.exit);
      const exitedAfter = performance.now() - signalledAt;
      const closedAfter = (await within(1_000, "close of every connection", Promise.all(closed))).map(
        (at) => `${(at - signalledAt).toFixed(0)}`,
      );
      console.log(
        `slow senders at SIGTERM (grace ${shutdownGraceMs} ms): connections closed after ${closedAfter.join(", ")} ms ` +
          `(HTTP/2, silent, slow headers, slow body); HTTP/2 GOAWAY ${JSON.stringify(h2.goaway)}; exit ${code} after ${exitedAfter.toFixed(0)} ms`,
      );
      expect(code).toBe(0);
      // The grace, then the one second given to calls to send their status, after which every connection is cut.
      expect(exitedAfter).toBeLessThan(shutdownGraceMs + 2_000);
    } finally {
      for (const socket of [h2.socket, silent, headers, body]) socket.destroy();
    }
  }, 30_000);

  it("exits 0 well before a long grace when nothing is in flight, idle HTTP/1.1 and HTTP/2 connections included", async () => {
    const gateway = await gatewayWith("idle-exit", { shutdownGraceMs: 10_000 });
    // An idle HTTP/2 session and an idle HTTP/1.1 keep-alive connection, each after a call.
    const session = http2.connect(gateway.url);
    session.on("error", () => undefined);
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
    await within(2_000, "HTTP/2 connect", new Promise((resolve) => session.once("connect", resolve)));
    const keepAlive = net.connect({ host: "127.0.0.1", port: gateway.port });
    keepAlive.on("error", () => undefined);
    const keepAliveClosed = new Promise<void>((resolve) => keepAlive.once("close", () => resolve()));
    keepAlive.write(
      `POST /llm.v1.LLMService/ListModels HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    await within(2_000, "ListModels answer", new Promise((resolve) => keepAlive.once("data", resolve)));
    try {
      const signalledAt = terminate(gateway);
      expect(await within(2_000, "GOAWAY on the idle session", goaway)).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await within(2_000, "close of the idle keep-alive connection", keepAliveClosed);
      expect(await within(2_000, "exit", gateway.exit)).toBe(0);
      const exitedAfter = performance.now() - signalledAt;
      console.log(`nothing in flight, grace 10000 ms: exit 0 after ${exitedAfter.toFixed(0)} ms`);
      expect(exitedAfter).toBeLessThan(2_000);
    } finally {
      session.destroy();
      keepAlive.destroy();
    }
  });
});

describe("llm-gateway serve on SIGTERM: Health.Watch", () => {
  it("sends NOT_SERVING to open Watch streams, ends them, and exits 0 in under 2 s with a 10 s grace", async () => {
    const gateway = await gatewayWith("watch", { shutdownGraceMs: 10_000 });
    const watchers = [
      { name: "gRPC", client: createClient(Health, grpcTransport(gateway.url)), service: "" },
      { name: "Connect HTTP/1.1", client: createClient(Health, connectJsonTransport(gateway.url)), service: "" },
      { name: "gRPC, API", client: createClient(Health, grpcTransport(gateway.url)), service: "llm.v1.LLMService" },
      // A name no service has: it never turns NOT_SERVING, and must not hold the shutdown either.
      { name: "gRPC, unknown", client: createClient(Health, grpcTransport(gateway.url)), service: "no.such.Service" },
    ].map(({ name, client, service }) => {
      const seen: Status[] = [];
      let firstUpdate: () => void = () => undefined;
      const first = new Promise<void>((resolve) => (firstUpdate = resolve));
      const ended = (async () => {
        try {
          for await (const update of client.watch({ service })) {
            seen.push(update.status);
            firstUpdate();
          }
          return { endedAt: performance.now(), error: undefined };
        } catch (error) {
          return { endedAt: performance.now(), error: ConnectError.from(error) };
        }
      })();
      return { name, seen, first, ended };
    });
    await within(3_000, "first update of every Watch", Promise.all(watchers.map((w) => w.first)));

    const signalledAt = terminate(gateway);
    const endings = await within(3_000, "end of every Watch", Promise.all(watchers.map((w) => w.ended)));
    expect(await within(2_000, "exit", gateway.exit)).toBe(0);
    const exitedAfter = performance.now() - signalledAt;
    console.log(
      `Watch streams ended ${endings.map((e) => (e.endedAt - signalledAt).toFixed(0)).join(", ")} ms after SIGTERM; ` +
        `exit 0 after ${exitedAfter.toFixed(0)} ms (grace 10000 ms)`,
    );
    for (const [i, watcher] of watchers.entries()) {
      expect(endings[i]?.error, watcher.name).toBeUndefined();
    }
    expect(watchers[0]?.seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(watchers[1]?.seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(watchers[2]?.seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
    expect(watchers[3]?.seen).toEqual([Status.SERVICE_UNKNOWN]);
    expect(exitedAfter).toBeLessThan(2_000);
  });
});
