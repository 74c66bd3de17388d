import http2 from "node:http2";
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { failure } from "../support/call-failure.js";
import {
  frameType,
  grpcFrame,
  hpackLiterals,
  http2Preface,
  RawHttp2Client,
  settingMaxConcurrentStreams,
} from "../support/raw-http2.js";
import { serveGateway, servedModel, within, type ServedGateway } from "../support/served-gateway.js";

/**
 * Attacks on a real `llm-gateway serve` child process, one gateway per group with the `server.*` bounds under
 * test: silent and slow connections, idle keep-alive connections and HTTP/2 sessions, an HTTP/2 stream flood,
 * the in-flight call and connection caps, and Health calls with huge names or in huge numbers. Each group checks
 * that the bound holds and that a legitimate call is still served.
 */

const providerKey = "sk-hardening-connections-key";
/** Delay between the emulator's stream chunks: a "short" stream (about 10 chunks) runs about half a second. */
const chunkDelayMs = 50;
let emulator: Emulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: providerKey, chunkDelayMs });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-hardening-connections-"));
});
afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a gateway with these `server` settings for the tests of one describe block. */
function gatewayFor(name: string, server: Record<string, unknown>): () => ServedGateway {
  let gateway: ServedGateway | undefined;
  beforeAll(async () => {
    gateway = await serveGateway({ dir, name, emulatorUrl: emulator.url, providerKey, server });
  });
  afterAll(async () => {
    await gateway?.stop();
  });
  return () => {
    if (!gateway) throw new Error("the gateway did not start");
    return gateway;
  };
}

const words = "one two three four five six seven eight nine ten";

function chatRequest(content: string) {
  return { model: servedModel, messages: [{ role: Role.USER, content }] };
}

/** gRPC over HTTP/2, on a connection of its own. */
function grpcClient(url: string): Client<typeof LLMService> {
  return createClient(LLMService, createGrpcTransport({ baseUrl: url }));
}

/** Connect (JSON) over HTTP/1.1, on connections of its own. */
function connectJsonClient(url: string): Client<typeof LLMService> {
  return createClient(LLMService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
}

/** A legitimate unary Chat; resolves with the answer's text. */
async function chatText(client: Client<typeof LLMService>, content = words): Promise<string> {
  const response = await within(5_000, "Chat answer", client.chat(chatRequest(content)));
  return response.message?.content ?? "";
}

interface StreamOutcome {
  text: string;
  /** Whether the final message (usage) arrived. */
  finished: boolean;
  error: ConnectError | undefined;
}

/** A StreamChat, consumed whole; `started` resolves at its first message. */
function streamChat(
  client: Client<typeof LLMService>,
  content: string,
  signal?: AbortSignal,
): { started: Promise<void>; done: Promise<StreamOutcome> } {
  let firstMessage: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstMessage = resolve));
  const done = (async () => {
    const outcome: StreamOutcome = { text: "", finished: false, error: undefined };
    try {
      for await (const chunk of client.streamChat(chatRequest(content), signal ? { signal } : {})) {
        outcome.text += chunk.delta;
        if (chunk.usage) outcome.finished = true;
        firstMessage();
      }
    } catch (error) {
      outcome.error = ConnectError.from(error);
    }
    firstMessage();
    return outcome;
  })();
  return { started, done };
}

/** A raw TCP connection to the gateway, recording what it receives and when it is closed. */
interface Probe {
  socket: net.Socket;
  /** performance.now() once connected. */
  connectedAt: number;
  /** Resolves with the milliseconds from connect to close. */
  closed: Promise<number>;
  received(): string;
}

async function probe(port: number): Promise<Probe> {
  const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
  socket.on("error", () => undefined);
  await within(2_000, "TCP connect", new Promise((resolve) => socket.once("connect", resolve)));
  const connectedAt = performance.now();
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(performance.now() - connectedAt)));
  return { socket, connectedAt, closed, received: () => received };
}

/** Sends `request` one byte every `everyMs` until the connection closes (a slowloris that never finishes). */
function dribble(target: Probe, request: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (target.socket.destroyed || at >= request.length) return;
    target.socket.write(request.slice(at, at + 1));
    at += 1;
  }, everyMs);
  void target.closed.then(() => clearInterval(timer));
}

describe("silent, slow and idle connections", () => {
  const sniffTimeoutMs = 300;
  const headersTimeoutMs = 500;
  const idleTimeoutMs = 800;
  const requestTimeoutMs = 2_000;
  const gateway = gatewayFor("timeouts", { sniffTimeoutMs, headersTimeoutMs, requestTimeoutMs, idleTimeoutMs });

  it("closes a TCP connection that sends nothing once sniffTimeoutMs is over", async () => {
    const silent = await probe(gateway().port);
    const closedAfter = await within(3_000, "close of the silent connection", silent.closed);
    console.log(`silent connection closed after ${closedAfter.toFixed(0)} ms (sniffTimeoutMs ${sniffTimeoutMs})`);
    expect(closedAfter).toBeGreaterThanOrEqual(sniffTimeoutMs - 100);
    expect(closedAfter).toBeLessThan(2_000);
    expect(silent.received()).toBe("");
  });

  it("closes a connection that sends part of the HTTP/2 preface and stops once sniffTimeoutMs is over", async () => {
    const partial = await probe(gateway().port);
    partial.socket.write(http2Preface.subarray(0, 8));
    const closedAfter = await within(3_000, "close of the partial-preface connection", partial.closed);
    console.log(`8-byte preface connection closed after ${closedAfter.toFixed(0)} ms`);
    expect(closedAfter).toBeGreaterThanOrEqual(sniffTimeoutMs - 100);
    expect(closedAfter).toBeLessThan(2_000);
  });

  it("closes a connection that sends most of the HTTP/2 preface (past the sniffed bytes) and stops, by the idle timeout", async () => {
    // The sniffer hands the connection to HTTP/2 after the first 14 bytes ("PRI * HTTP/2.0"): what is left of
    // the 24-byte preface is Node's to wait for, and the session's idle timeout is what bounds that wait.
    const partial = await probe(gateway().port);
    partial.socket.write(http2Preface.subarray(0, 20));
    const closedAfter = await within(4_000, "close of the 20-byte-preface connection", partial.closed);
    console.log(
      `20-byte preface connection closed after ${closedAfter.toFixed(0)} ms (idleTimeoutMs ${idleTimeoutMs})`,
    );
    expect(closedAfter).toBeLessThan(idleTimeoutMs + 1_500);
  });

  it("answers HTTP/1.1 slowloris connections 408 and closes them after headersTimeoutMs, while legitimate calls are served", async () => {
    const { port, url } = gateway();
    const request = `POST /llm.v1.LLMService/Chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nX-Padding: ${"a".repeat(200)}\r\n\r\n`;
    // Eight slowloris connections at all times: each one closed is replaced until the legitimate calls are done.
    const attackers: Probe[] = [];
    let attacking = true;
    const attack = async (): Promise<void> => {
      const attacker = await probe(port);
      attackers.push(attacker);
      // The first bytes at once (the sniffer sees HTTP/1.1 at the second byte), then a byte every 100 ms.
      attacker.socket.write(request.slice(0, 16));
      dribble(attacker, request.slice(16), 100);
      void attacker.closed.then(() => {
        if (attacking) void attack();
      });
    };
    await Promise.all(Array.from({ length: 8 }, attack));

    // Meanwhile: Connect JSON over HTTP/1.1 and gRPC over HTTP/2, each on new connections, three rounds.
    for (let round = 0; round < 3; round++) {
      const [json, grpc] = await Promise.all([chatText(connectJsonClient(url)), chatText(grpcClient(url))]);
      expect(json).toBe(`Echo: ${words}`);
      expect(grpc).toBe(`Echo: ${words}`);
    }
    attacking = false;
    const open = attackers.filter((attacker) => !attacker.socket.destroyed).length;

    const closedAfter = await within(
      3_000,
      "close of every slowloris connection",
      Promise.all(attackers.map((attacker) => attacker.closed)),
    );
    console.log(
      `slowloris: ${attackers.length} connections (${open} open when the legitimate calls were done) closed after ` +
        `${closedAfter.map((ms) => ms.toFixed(0)).join(", ")} ms (headersTimeoutMs ${headersTimeoutMs})`,
    );
    expect(open).toBeGreaterThan(0);
    for (const [i, attacker] of attackers.entries()) {
      expect(attacker.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(closedAfter[i]).toBeGreaterThanOrEqual(headersTimeoutMs - 100);
      expect(closedAfter[i]).toBeLessThan(2_000);
    }
    // Served afterwards too.
    expect(await chatText(connectJsonClient(url))).toBe(`Echo: ${words}`);
  });

  it("closes an idle HTTP/1.1 keep-alive connection after idleTimeoutMs", async () => {
    const { port } = gateway();
    const keepAlive = await probe(port);
    keepAlive.socket.write(
      `POST /llm.v1.LLMService/ListModels HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    );
    await within(
      3_000,
      "ListModels answer",
      new Promise<void>((resolve) => keepAlive.socket.once("data", () => resolve())),
    );
    const answeredAt = performance.now();
    await within(4_000, "close of the idle keep-alive connection", keepAlive.closed);
    const idleFor = performance.now() - answeredAt;
    console.log(`idle HTTP/1.1 keep-alive connection closed ${idleFor.toFixed(0)} ms after its answer`);
    expect(keepAlive.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(keepAlive.received().toLowerCase()).toContain("connection: keep-alive");
    expect(idleFor).toBeGreaterThanOrEqual(idleTimeoutMs - 100);
    expect(idleFor).toBeLessThan(idleTimeoutMs + 1_500);
  });

  it("sends GOAWAY to an idle HTTP/2 session and closes it after idleTimeoutMs", async () => {
    const session = http2.connect(gateway().url);
    session.on("error", () => undefined);
    await within(2_000, "HTTP/2 connect", new Promise((resolve) => session.once("connect", resolve)));
    const connectedAt = performance.now();
    const goaway = new Promise<number>((resolve) => session.once("goaway", (code: number) => resolve(code)));
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    expect(await within(4_000, "GOAWAY on the idle session", goaway)).toBe(http2.constants.NGHTTP2_NO_ERROR);
    const goawayAfter = performance.now() - connectedAt;
    await within(2_000, "close of the idle session", closed);
    console.log(`idle HTTP/2 session: GOAWAY after ${goawayAfter.toFixed(0)} ms`);
    expect(goawayAfter).toBeGreaterThanOrEqual(idleTimeoutMs - 100);
    expect(goawayAfter).toBeLessThan(idleTimeoutMs + 1_500);
  });
  it("does not let HTTP/2 PINGs alone keep a session open past idleTimeoutMs", async () => {
    const pinger = await RawHttp2Client.connect(gateway().port, { ackSettings: true });
    const connectedAt = performance.now();
    const timer = setInterval(() => pinger.writeFrame(frameType.ping, 0, 0, Buffer.alloc(8)), idleTimeoutMs / 4);
    try {
      await within(idleTimeoutMs + 2_000, "close of the pinging connection", pinger.closed);
    } finally {
      clearInterval(timer);
    }
    const closedAfter = performance.now() - connectedAt;
    console.log(
      `HTTP/2 session sending only PINGs closed after ${closedAfter.toFixed(0)} ms (GOAWAY ${JSON.stringify(pinger.goaway)})`,
    );
    expect(pinger.goaway?.code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(closedAfter).toBeLessThan(idleTimeoutMs + 1_500);
  });

  it("closes an HTTP/2 connection whose request headers are dribbled in CONTINUATION frames and never end", async () => {
    // HEADERS without END_HEADERS, then one byte of the header block per CONTINUATION frame every 100 ms.
    const { port } = gateway();
    const attacker = await RawHttp2Client.connect(port, { ackSettings: true });
    const connectedAt = performance.now();
    const block = hpackLiterals([
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/llm.v1.LLMService/Chat"],
      [":authority", `127.0.0.1:${port}`],
      ["content-type", "application/grpc"],
      ["x-padding", "a".repeat(2_000)],
    ]);
    attacker.writeFrame(frameType.headers, 0, 1, block.subarray(0, 10));
    let at = 10;
    const timer = setInterval(() => {
      if (at >= block.length - 1) return;
      attacker.writeFrame(frameType.continuation, 0, 1, block.subarray(at, at + 1));
      at += 1;
    }, 100);
    try {
      await within(idleTimeoutMs + 3_000, "close of the dribbling connection", attacker.closed);
    } finally {
      clearInterval(timer);
    }
    const closedAfter = performance.now() - connectedAt;
    console.log(
      `HTTP/2 headers dribbled in CONTINUATION frames: closed after ${closedAfter.toFixed(0)} ms, ${at} of ${block.length} header bytes sent (GOAWAY ${JSON.stringify(attacker.goaway)})`,
    );
    expect(at).toBeLessThan(block.length - 1);
    expect(closedAfter).toBeLessThan(idleTimeoutMs + 2_000);
  });

  it("answers an HTTP/1.1 request whose body is dribbled 408 and closes it once requestTimeoutMs is over", async () => {
    const { port } = gateway();
    const attacker = await probe(port);
    attacker.socket.write(
      `POST /llm.v1.LLMService/Chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`,
    );
    dribble(attacker, `{"model":"${servedModel}","messages":[${" ".repeat(1_000)}`, 100);
    const closedAfter = await within(
      requestTimeoutMs + 3_000,
      "close of the body-dribbling connection",
      attacker.closed,
    );
    console.log(
      `HTTP/1.1 body dribble: closed after ${closedAfter.toFixed(0)} ms (requestTimeoutMs ${requestTimeoutMs})`,
    );
    expect(attacker.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfter).toBeGreaterThanOrEqual(requestTimeoutMs - 100);
    expect(closedAfter).toBeLessThan(requestTimeoutMs + 1_500);
  });

  it("resets an HTTP/2 request whose message is dribbled (a byte every 100 ms) once requestTimeoutMs is over", async () => {
    const { port } = gateway();
    const attacker = await RawHttp2Client.connect(port, { ackSettings: true });
    try {
      const id = attacker.request([
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/llm.v1.LLMService/Chat"],
        [":authority", `127.0.0.1:${port}`],
        ["content-type", "application/grpc"],
        ["te", "trailers"],
      ]);
      const openedAt = performance.now();
      const timer = setInterval(() => {
        if (!attacker.resets.has(id)) attacker.send(id, Buffer.from([0]));
      }, 100);
      try {
        await within(
          requestTimeoutMs + 3_000,
          "reset of the dribbled stream",
          attacker.until(() => attacker.resets.has(id)),
        );
      } finally {
        clearInterval(timer);
      }
      const resetAfter = (attacker.resetAt.get(id) ?? Number.NaN) - openedAt;
      console.log(
        `HTTP/2 message dribble: stream reset (code ${attacker.resets.get(id)}) after ${resetAfter.toFixed(0)} ms`,
      );
      expect(attacker.resets.get(id)).toBe(http2.constants.NGHTTP2_CANCEL);
      expect(resetAfter).toBeGreaterThanOrEqual(requestTimeoutMs - 100);
      expect(resetAfter).toBeLessThan(requestTimeoutMs + 1_000);
    } finally {
      attacker.destroy();
    }
  });
});

describe("HTTP/2 stream flood on one connection", () => {
  const maxConcurrentStreams = 100;
  const requestTimeoutMs = 1_500;
  const gateway = gatewayFor("flood", {
    maxConcurrentStreams,
    headersTimeoutMs: 1_000,
    requestTimeoutMs,
    idleTimeoutMs: 10_000,
  });
  const flood = 1_000;

  function chatHeaders(port: number): [string, string][] {
    return [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/llm.v1.LLMService/Chat"],
      [":authority", `127.0.0.1:${port}`],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
  }

  /** Samples the gateway's RSS every 50 ms; returns a function that stops and gives the peak. */
  function sampleRss(target: ServedGateway): () => number {
    let peak = target.rssMb();
    const timer = setInterval(() => {
      peak = Math.max(peak, target.rssMb());
    }, 50);
    return () => {
      clearInterval(timer);
      return Math.max(peak, target.rssMb());
    };
  }

  function countCodes(codes: Iterable<number>): Record<number, number> {
    const counts: Record<number, number> = {};
    for (const code of codes) counts[code] = (counts[code] ?? 0) + 1;
    return counts;
  }

  it("refuses streams past maxConcurrentStreams, resets the open ones after requestTimeoutMs, keeps RSS bounded, and then serves a new connection", async () => {
    const target = gateway();
    const rssBefore = target.rssMb();
    const peakRss = sampleRss(target);
    // A client that does not acknowledge the server's SETTINGS: the limit is still pending for the server, so
    // it refuses excess streams one by one (REFUSED_STREAM) instead of failing the whole connection.
    const attacker = await RawHttp2Client.connect(target.port, { ackSettings: false });
    try {
      await within(2_000, "server SETTINGS", attacker.settled);
      expect(attacker.serverSettings.get(settingMaxConcurrentStreams)).toBe(maxConcurrentStreams);
      const sentAt = performance.now();
      // Headers and 15 bytes of a message that declares 64: the request never arrives whole.
      for (let i = 0; i < flood; i++) attacker.request(chatHeaders(target.port), grpcFrame(64, Buffer.alloc(10, 0x0a)));
      await within(
        3_000,
        "REFUSED_STREAM for every stream past the limit",
        attacker.until(() => attacker.resets.size >= flood - maxConcurrentStreams),
      );
      const refusedAfter = performance.now() - sentAt;
      const early = countCodes(attacker.resets.values());
      // Never more than maxConcurrentStreams open: every other stream was refused, none was answered.
      expect(early).toEqual({ [http2.constants.NGHTTP2_REFUSED_STREAM]: flood - maxConcurrentStreams });
      expect(attacker.answered.size).toBe(0);
      expect(attacker.goaway).toBeUndefined();

      // The streams that were let in wait for the rest of their message: reset once requestTimeoutMs is over.
      await within(
        requestTimeoutMs + 2_000,
        "reset of the open streams",
        attacker.until(() => attacker.resets.size >= flood),
      );
      const cancels = [...attacker.resets].filter(([, code]) => code === http2.constants.NGHTTP2_CANCEL);
      expect(cancels).toHaveLength(maxConcurrentStreams);
      const resetTimes = cancels.map(([id]) => (attacker.resetAt.get(id) ?? Number.NaN) - sentAt);
      const firstReset = Math.min(...resetTimes);
      const lastReset = Math.max(...resetTimes);
      const rssPeak = peakRss();
      console.log(
        `stream flood: ${flood} streams, ${flood - maxConcurrentStreams} refused within ${refusedAfter.toFixed(0)} ms, ` +
          `${cancels.length} reset (CANCEL) ${firstReset.toFixed(0)}-${lastReset.toFixed(0)} ms after sending ` +
          `(requestTimeoutMs ${requestTimeoutMs}); RSS ${rssBefore.toFixed(1)} MB before, peak ${rssPeak.toFixed(1)} MB ` +
          `(+${(rssPeak - rssBefore).toFixed(1)} MB)`,
      );
      expect(firstReset).toBeGreaterThanOrEqual(requestTimeoutMs - 100);
      expect(lastReset).toBeLessThan(requestTimeoutMs + 1_500);
      expect(rssPeak - rssBefore).toBeLessThan(150);
    } finally {
      peakRss();
      attacker.destroy();
    }
    expect(await chatText(grpcClient(target.url))).toBe(`Echo: ${words}`);
  });

  it("closes the connection of a client that acknowledged the limit and then exceeds it, without serving past the limit", async () => {
    const target = gateway();
    const attacker = await RawHttp2Client.connect(target.port, { ackSettings: true });
    try {
      await within(2_000, "server SETTINGS", attacker.settled);
      for (let i = 0; i < flood; i++) attacker.request(chatHeaders(target.port), grpcFrame(64, Buffer.alloc(10, 0x0a)));
      await within(3_000, "close of the flooding connection", attacker.closed);
      console.log(
        `stream flood after SETTINGS ACK: GOAWAY ${JSON.stringify(attacker.goaway)}, resets ${JSON.stringify(countCodes(attacker.resets.values()))}`,
      );
      expect(attacker.goaway).toBeDefined();
      // Stream ids are odd: the last one the server took is at most the limit's.
      expect(attacker.goaway?.lastStreamId ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(
        2 * maxConcurrentStreams - 1,
      );
      expect(attacker.answered.size).toBe(0);
    } finally {
      attacker.destroy();
    }
    expect(await chatText(grpcClient(target.url))).toBe(`Echo: ${words}`);
  });
});

describe("HTTP/2 requests that hold large partial messages", () => {
  // The default requestTimeoutMs is 60 s; 6 s leaves the attack the time it needs here: the budget of bytes
  // still arriving (server.maxPendingRequestBytes) is full within a second or two.
  const requestTimeoutMs = 6_000;
  const maxRequestBytes = 4 * 1024 * 1024;
  const gateway = gatewayFor("partial-messages", {
    requestTimeoutMs,
    headersTimeoutMs: requestTimeoutMs,
    idleTimeoutMs: 30_000,
    maxRequestBytes,
    // Half the default (32 MiB): what the attack can make the gateway hold, and so the bound below, follows it.
    maxPendingRequestBytes: 16 * 1024 * 1024,
  });

  it("keeps the gateway's RSS bounded (growth < 150 MB) when one connection fills 100 streams with messages one byte short of maxRequestBytes", async () => {
    // Each stream declares a message of maxRequestBytes - 1 bytes (allowed) and sends all of it but the last byte,
    // as fast as HTTP/2 flow control lets it: the server must buffer a message until it is whole. Nothing bounds
    // those bytes but maxConcurrentStreams x maxRequestBytes per connection (400 MB by default) times
    // maxConnections: at the commit that added the bounds this fails, RSS growing by about 430 MB.
    const target = gateway();
    const bound = 150;
    const streams = 100;
    const declared = maxRequestBytes - 1;
    const body = Buffer.alloc(declared - 1, 0x41);
    const rssBefore = target.rssMb();
    let rssPeak = rssBefore;
    const attacker = await RawHttp2Client.connect(target.port, { ackSettings: true });
    const startedAt = performance.now();
    try {
      await within(2_000, "server SETTINGS", attacker.settled);
      const headers: [string, string][] = [
        [":method", "POST"],
        [":scheme", "http"],
        [":path", "/llm.v1.LLMService/Chat"],
        [":authority", `127.0.0.1:${target.port}`],
        ["content-type", "application/grpc"],
        ["te", "trailers"],
      ];
      for (let i = 0; i < streams; i++) {
        const id = attacker.request(headers);
        attacker.send(id, grpcFrame(declared, Buffer.alloc(0)));
        attacker.send(id, body);
      }
      // Until everything is sent, the server resets every stream or drops the connection, or requestTimeoutMs (plus
      // a margin) is over; and at most 1 GB of growth, to spare the machine.
      const deadline = startedAt + requestTimeoutMs + 2_000;
      while (performance.now() < deadline) {
        rssPeak = Math.max(rssPeak, target.rssMb());
        if (rssPeak - rssBefore >= 1_024) break;
        if (attacker.queuedBytes === 0 || attacker.resets.size >= streams || attacker.socket.destroyed) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      attacker.destroy();
    }
    const elapsed = performance.now() - startedAt;
    console.log(
      `large partial messages: ${(attacker.sentBytes / 1024 / 1024).toFixed(0)} MB sent on one connection in ` +
        `${elapsed.toFixed(0)} ms (${attacker.resets.size} streams reset, GOAWAY ${JSON.stringify(attacker.goaway)}); ` +
        `RSS ${rssBefore.toFixed(1)} MB before, peak ${rssPeak.toFixed(1)} MB (+${(rssPeak - rssBefore).toFixed(1)} MB)`,
    );
    expect(await chatText(grpcClient(target.url))).toBe(`Echo: ${words}`);
    expect(rssPeak - rssBefore).toBeLessThan(bound);
  }, 40_000);
});

/** Retries a Chat every 25 ms while it is refused RESOURCE_EXHAUSTED, for at most `ms`. */
async function servedWithin(client: Client<typeof LLMService>, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      await within(5_000, "Chat answer", client.chat(chatRequest(words)));
      return;
    } catch (error) {
      if (ConnectError.from(error).code !== Code.ResourceExhausted || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe("maxInFlightCalls", () => {
  const maxInFlightCalls = 3;
  const gateway = gatewayFor("in-flight", { maxInFlightCalls });

  it("fails the call past the cap with RESOURCE_EXHAUSTED naming server.maxInFlightCalls, and serves calls again once one ends", async () => {
    const { url } = gateway();
    const client = grpcClient(url);
    // One short stream (about 0.6 s) and two long ones (about 5 s) fill the cap.
    const long = `${words} ${words} ${words} ${words} ${words}`;
    const cancelLong = new AbortController();
    const short = streamChat(client, words);
    const longA = streamChat(client, long, cancelLong.signal);
    const longB = streamChat(client, long);
    await within(
      5_000,
      "first messages of the three streams",
      Promise.all([short.started, longA.started, longB.started]),
    );

    for (const over of [client, connectJsonClient(url)]) {
      const error = await within(
        3_000,
        "refusal of the 4th call",
        failure(() => over.chat(chatRequest(words))),
      );
      expect(error.code).toBe(Code.ResourceExhausted);
      expect(error.rawMessage).toContain("server.maxInFlightCalls");
      expect(error.rawMessage).toContain(`${maxInFlightCalls}`);
    }
    const refusedStream = await within(3_000, "refused 4th stream", streamChat(client, words).done);
    expect(refusedStream.error?.code).toBe(Code.ResourceExhausted);

    // The short stream ends: a call fits again.
    expect(await within(5_000, "end of the short stream", short.done)).toMatchObject({
      text: `Echo: ${words}`,
      finished: true,
      error: undefined,
    });
    expect(await chatText(client)).toBe(`Echo: ${words}`);
    // Cancelled by its client, a stream frees its place too: the server notices the cancel a moment later.
    cancelLong.abort();
    expect((await within(3_000, "end of the cancelled stream", longA.done)).error?.code).toBe(Code.Canceled);
    const cancelledAt = performance.now();
    await servedWithin(client, 1_000);
    console.log(
      `the place of a cancelled stream was free ${(performance.now() - cancelledAt).toFixed(0)} ms after the cancel`,
    );
    const again = [streamChat(client, words), streamChat(connectJsonClient(url), words)];
    for (const outcome of await within(
      5_000,
      "two streams in the freed places",
      Promise.all(again.map((s) => s.done)),
    )) {
      expect(outcome).toMatchObject({ text: `Echo: ${words}`, finished: true, error: undefined });
    }
    expect((await within(8_000, "end of the last long stream", longB.done)).finished).toBe(true);
  });
  it("answers Health.Check while maxInFlightCalls calls are running", async () => {
    // A load balancer's or Kubernetes' gRPC health probe that fails whenever the gateway is busy takes a loaded
    // instance out of service (or restarts it). At the commit that added the bounds this fails: Check is refused
    // RESOURCE_EXHAUSTED like any call past the cap.
    const { url } = gateway();
    const client = grpcClient(url);
    const long = `${words} ${words} ${words}`;
    const streams = Array.from({ length: maxInFlightCalls }, () => streamChat(client, long));
    try {
      await within(5_000, "first messages of the streams", Promise.all(streams.map((s) => s.started)));
      const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
      const answer = await within(
        3_000,
        "Health.Check with the cap full",
        health.check({ service: "" }).then(
          (response) => Status[response.status],
          (error: unknown) => `${Code[ConnectError.from(error).code]}: ${ConnectError.from(error).rawMessage}`,
        ),
      );
      console.log(`Health.Check with ${maxInFlightCalls} calls running: ${answer}`);
      expect(answer).toBe("SERVING");
    } finally {
      await within(8_000, "end of the streams", Promise.all(streams.map((s) => s.done)));
    }
  });

  it("does not let Health.Watch calls, which need no client key, take every place of the LLM calls", async () => {
    // Health is public (no client key) and a Watch stays open as long as its caller wishes; up to 1,000 may be
    // open. At the commit that added the bounds this fails: each Watch holds one of the maxInFlightCalls places,
    // so anyone who reaches the port can take all of them whenever maxInFlightCalls <= 1,000.
    const { url } = gateway();
    const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
    const watchers = Array.from({ length: maxInFlightCalls }, () => watch(health, ""));
    try {
      await within(3_000, "first update of the watchers", Promise.all(watchers.map((w) => w.first)));
      const answer = await within(
        3_000,
        "Chat with the watchers open",
        grpcClient(url)
          .chat(chatRequest(words))
          .then(
            (response) => response.message?.content ?? "",
            (error: unknown) => `${Code[ConnectError.from(error).code]}: ${ConnectError.from(error).rawMessage}`,
          ),
      );
      console.log(`Chat with ${maxInFlightCalls} Health.Watch calls open: ${answer}`);
      expect(answer).toBe(`Echo: ${words}`);
    } finally {
      for (const watcher of watchers) watcher.cancel.abort();
      await within(3_000, "end of the watchers", Promise.all(watchers.map((w) => w.ended)));
    }
  });
});

/**
 * A legitimate unary Chat on a new connection, opened again every 25 ms while the server resets it (it has not yet
 * counted a closed connection out), for at most `ms`.
 */
async function acceptedWithin(url: string, ms: number): Promise<string> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await chatText(connectJsonClient(url));
    } catch (error) {
      const reset = ConnectError.from(error).rawMessage.includes("ECONNRESET");
      if (!reset || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

describe("maxConnections", () => {
  const maxConnections = 5;
  const gateway = gatewayFor("connections", { maxConnections });

  it("closes the connection past the cap at once while the others are open, and accepts one again when one closes", async () => {
    const { port, url } = gateway();
    const sessions = Array.from({ length: maxConnections }, () => {
      const session = http2.connect(url);
      session.on("error", () => undefined);
      return session;
    });
    try {
      await within(
        2_000,
        "five HTTP/2 connections",
        Promise.all(sessions.map((s) => new Promise((resolve) => s.once("connect", resolve)))),
      );
      // A round trip on each: the server has taken every one of them.
      await within(
        2_000,
        "PING on the five connections",
        Promise.all(sessions.map((s) => new Promise((resolve) => s.ping((error) => resolve(error))))),
      );
      const sixth = await probe(port);
      sixth.socket.write(http2Preface);
      const closedAfter = await within(1_000, "close of the sixth connection", sixth.closed);
      console.log(`sixth connection closed after ${closedAfter.toFixed(0)} ms (maxConnections ${maxConnections})`);
      expect(sixth.received()).toBe("");
      // A legitimate call cannot get a connection either.
      const refused = await within(
        3_000,
        "failure of a call on a sixth connection",
        failure(() => grpcClient(url).chat(chatRequest(words))),
      );
      console.log(`a call on a sixth connection fails with ${Code[refused.code]}: ${refused.rawMessage}`);
      expect(refused.code).not.toBe(Code.ResourceExhausted);

      const first = sessions.shift();
      const gone = new Promise((resolve) => first?.once("close", resolve));
      first?.destroy();
      await gone;
      // The client sees its close before the server does: a connection opened in between is still past the cap.
      expect(await acceptedWithin(url, 2_000)).toBe(`Echo: ${words}`);
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});

describe("Health with huge names and many watchers", () => {
  const gateway = gatewayFor("health", {});
  const megabyte = 1024 * 1024;

  /** A distinct service name of about 1 MB. */
  function hugeName(i: number): string {
    return `${i}-`.padEnd(megabyte, "x");
  }

  it("refuses Watch and Check calls with a 1 MB service name with INVALID_ARGUMENT, without echoing the name", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: gateway().url }));
    const errors = await within(
      10_000,
      "refusal of the Watch calls and the Check",
      Promise.all([
        ...Array.from({ length: 5 }, (_, i) =>
          failure(async () => {
            for await (const _ of health.watch({ service: hugeName(i) })) {
              // A refused Watch sends nothing.
            }
          }),
        ),
        failure(() => health.check({ service: hugeName(-1) })),
      ]),
    );
    for (const error of errors) {
      expect(error.code).toBe(Code.InvalidArgument);
      // Refused from the declared size, before the name is read: 1 MB of "x" plus the field's tag and length.
      expect(error.rawMessage).toBe(
        `the request's message is ${megabyte + 4} bytes, larger than the grpc.health.v1 limit (2048 bytes): a service name has at most 256 characters`,
      );
    }
    expect((await health.check({ service: "" })).status).toBe(Status.SERVING);
  });

  it("keeps the gateway's RSS flat (growth < 50 MB) under 300 Watch calls with distinct 1 MB service names", async () => {
    // Each name is refused from the message's declared size (grpc.health.v1 requests are at most 2 KiB), before
    // it is read or decoded, and the registry stores nothing for it. When the whole message (up to
    // server.maxRequestBytes, 4 MB) was read and decoded before the name was checked, RSS peaked about 150 MB
    // higher.
    const target = gateway();
    const health = createClient(Health, createGrpcTransport({ baseUrl: target.url }));
    const rssBefore = target.rssMb();
    let rssPeak = rssBefore;
    const startedAt = performance.now();
    const calls = 300;
    const parallel = 10;
    const codes: Record<string, number> = {};
    for (let batch = 0; batch < calls; batch += parallel) {
      const errors = await within(
        10_000,
        "refusal of a batch of Watch calls",
        Promise.all(
          Array.from({ length: parallel }, (_, j) =>
            failure(async () => {
              for await (const _ of health.watch({ service: hugeName(batch + j) })) {
                // A refused Watch sends nothing.
              }
            }),
          ),
        ),
      );
      for (const error of errors) codes[Code[error.code]] = (codes[Code[error.code]] ?? 0) + 1;
      rssPeak = Math.max(rssPeak, target.rssMb());
    }
    const rssAfter = target.rssMb();
    rssPeak = Math.max(rssPeak, rssAfter);
    console.log(
      `${calls} Watch calls with 1 MB names refused (${JSON.stringify(codes)}) in ${(performance.now() - startedAt).toFixed(0)} ms; ` +
        `RSS ${rssBefore.toFixed(1)} MB before, peak ${rssPeak.toFixed(1)} MB (+${(rssPeak - rssBefore).toFixed(1)}), ` +
        `after ${rssAfter.toFixed(1)} MB (+${(rssAfter - rssBefore).toFixed(1)})`,
    );
    // Each refusal is answered from the declared size, before the client has sent its megabyte. One such call
    // gets INVALID_ARGUMENT (the test above); ten at once on one connection put more unread bytes in flight than
    // Node's per-session memory bound (maxSessionMemory, 10 MB), and Node resets those streams with
    // ENHANCE_YOUR_CALM, which this client reports as INTERNAL. Nothing is ever served to the attacking
    // connection, and other connections are served as before.
    expect(codes["Ok"]).toBeUndefined();
    expect(Object.keys(codes).every((code) => code === "InvalidArgument" || code === "Internal")).toBe(true);
    const other = createClient(Health, createGrpcTransport({ baseUrl: target.url }));
    expect((await other.check({ service: "" })).status).toBe(Status.SERVING);
    expect(rssPeak - rssBefore).toBeLessThan(50);
  });

  it("refuses the 1,001st concurrent Watch with RESOURCE_EXHAUSTED and takes one again when a watcher leaves", async () => {
    const target = gateway();
    const maxWatchers = 1_000;
    // maxConcurrentStreams is 100 per connection: 10 connections of 100 watchers each.
    const clients = Array.from({ length: maxWatchers / 100 + 1 }, () =>
      createClient(Health, createGrpcTransport({ baseUrl: target.url })),
    );
    const watchers: { first: Promise<Status>; ended: Promise<unknown>; cancel: AbortController }[] = [];
    const startedAt = performance.now();
    const extra = clients[clients.length - 1];
    if (!extra) throw new Error("no client");
    const refusal = async (): Promise<ConnectError> =>
      within(
        5_000,
        "refusal of a Watch past the limit",
        failure(async () => {
          for await (const _ of extra.watch({ service: "" })) {
            // Refused before any update.
          }
        }),
      );
    try {
      for (let i = 0; i < maxWatchers; i++) {
        const client = clients[Math.floor(i / 100)];
        if (!client) throw new Error("no client");
        watchers.push(watch(client, ""));
      }
      const firsts = await within(20_000, "first update of 1,000 watchers", Promise.all(watchers.map((w) => w.first)));
      console.log(`1,000 Watch calls open after ${(performance.now() - startedAt).toFixed(0)} ms`);
      expect(firsts.every((status) => status === Status.SERVING)).toBe(true);
      expect((await refusal()).code).toBe(Code.ResourceExhausted);

      // One watcher leaves: one new Watch is taken (once the server has seen the cancel, a moment after the
      // client), and the next is refused again.
      const leaving = watchers.pop();
      leaving?.cancel.abort();
      await within(3_000, "end of the cancelled Watch", leaving?.ended ?? Promise.resolve());
      const cancelledAt = performance.now();
      for (;;) {
        const replacement = watch(extra, "");
        watchers.push(replacement);
        const first = await within(3_000, "first update of the replacing Watch", replacement.first).catch(
          (error: unknown) => ConnectError.from(error),
        );
        if (first === Status.SERVING) break;
        if (!(first instanceof ConnectError) || first.code !== Code.ResourceExhausted) throw first;
        if (performance.now() - cancelledAt > 1_000)
          throw new Error(`the cancelled Watch's place is still taken: ${first.message}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      console.log(
        `a cancelled Watch's place was free ${(performance.now() - cancelledAt).toFixed(0)} ms after the cancel`,
      );
      expect((await refusal()).code).toBe(Code.ResourceExhausted);
    } finally {
      for (const watcher of watchers) watcher.cancel.abort();
      await within(10_000, "end of every Watch", Promise.all(watchers.map((w) => w.ended)));
    }
  }, 60_000);
});

/** A Watch: `first` resolves with its first status, `ended` once it ended; `cancel` ends it. */
function watch(
  client: Client<typeof Health>,
  service: string,
): { first: Promise<Status>; ended: Promise<unknown>; cancel: AbortController } {
  const cancel = new AbortController();
  let firstStatus: (status: Status) => void = () => undefined;
  let failed: (error: unknown) => void = () => undefined;
  const first = new Promise<Status>((resolve, reject) => {
    firstStatus = resolve;
    failed = reject;
  });
  // Not every caller awaits `first` (a Watch cancelled by the test fails it).
  first.catch(() => undefined);
  const ended = (async () => {
    try {
      for await (const update of client.watch({ service }, { signal: cancel.signal })) firstStatus(update.status);
      failed(new Error("Watch ended before an update"));
    } catch (error) {
      failed(error);
    }
  })();
  return { first, ended, cancel };
}
