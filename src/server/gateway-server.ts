import http from "node:http";
import http2 from "node:http2";
import { setMaxListeners } from "node:events";
import net from "node:net";
import tls from "node:tls";
import { Code, ConnectError, type ConnectRouter, type ContextValues, type Interceptor } from "@connectrpc/connect";
import { InFlightLimit } from "./in-flight-limit.js";
import { nodeAdapter, type UnseenCall } from "./node-adapter.js";
import type { CountedField } from "./field-count.js";
import { PendingRequestBytes } from "./pending-request-bytes.js";
import type { RequestLimit } from "./request-size-limit.js";

/** Bounds on what connections and calls may hold (config `server.*`; see docs/operations.md). */
export interface ServerLimits {
  /** Bytes of request messages still arriving, over all connections; past it requests fail RESOURCE_EXHAUSTED. */
  maxPendingRequestBytes: number;
  /** Open TCP connections; more are closed as they arrive. */
  maxConnections: number;
  /** Calls running at once over all connections; more fail with RESOURCE_EXHAUSTED. */
  maxInFlightCalls: number;
  /** HTTP/2 streams open at once on one connection; more are refused (REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /** A new connection must show which protocol it speaks (its first bytes) within this time. */
  sniffTimeoutMs: number;
  /** HTTP/1.1: a request's headers must arrive within this time. */
  headersTimeoutMs: number;
  /** A request (headers and message) must arrive whole within this time; answers may take longer. */
  requestTimeoutMs: number;
  /** A connection with no call and no traffic for this long is closed (HTTP/1.1 keep-alive, HTTP/2 sessions). */
  idleTimeoutMs: number;
}

/** How the gateway's listener is set up. */
export interface GatewayServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request message accepted; larger ones fail with INVALID_ARGUMENT naming server.maxRequestBytes. */
  maxRequestBytes: number;
  /** Smaller request limits for services whose requests are small by nature, by service type name. */
  serviceRequestLimits?: Readonly<Record<string, RequestLimit>>;
  /** Repeated fields bounded in count, by request path, counted before decoding (binary requests). */
  countedFields?: Readonly<Record<string, readonly CountedField[]>>;
  /** How long close() lets in-flight calls finish before it ends them with UNAVAILABLE. */
  shutdownGraceMs: number;
  limits: ServerLimits;
  /** TLS on the port (PEM texts); with `clientCa`, client certificates are required (mutual TLS). */
  tls?: { certificate: string; privateKey: string; clientCa?: string };
  routes: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
  /** Calls no interceptor recorded (see node-adapter.ts); by default they are not reported. */
  unseenCalls?: { seen: (values: ContextValues) => boolean; onUnseen: (call: UnseenCall) => void };
}

const http2Preface = Buffer.from("PRI * HTTP/2.0");
/** After the grace, how long calls get to send their UNAVAILABLE status before their connections are cut. */
const abortFlushMs = 1_000;

/**
 * Proto3 strings are UTF-8: JSON bodies with invalid bytes are rejected (INVALID_ARGUMENT) instead of having
 * U+FFFD substituted. connect-es reads `textDecoder` from its JSON options although its type does not list it;
 * test/server/bad-input.e2e.test.ts guards that. Unknown JSON fields are rejected with their name (a top-level
 * `temperature` instead of `options.temperature` must not be dropped silently).
 */
const strictJsonOptions = { ignoreUnknownFields: false, textDecoder: new TextDecoder("utf-8", { fatal: true }) };

/**
 * One TCP port serving gRPC (HTTP/2 cleartext), gRPC-Web and Connect (HTTP/1.1 and HTTP/2): each connection's
 * first bytes are sniffed for the HTTP/2 preface and handed to the HTTP/2 or the HTTP/1.1 server, both
 * running the same Connect handler. Nagle is off on every socket so stream chunks leave at once. Every
 * connection, stream and call is bounded by `limits`.
 */
export class GatewayServer {
  readonly #listener: net.Server;
  readonly #http1: http.Server;
  readonly #http2: http2.Http2Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** Connections whose protocol is not known yet (closed at once on shutdown). */
  readonly #undecided = new Set<net.Socket>();
  readonly #calls: InFlightLimit;
  readonly #shutdown = new AbortController();
  readonly #options: GatewayServerOptions;
  #closing: Promise<void> | undefined;

  private constructor(options: GatewayServerOptions) {
    this.#options = options;
    const { limits } = options;
    this.#calls = new InFlightLimit(limits.maxInFlightCalls);
    // connect-es links every in-flight call to the shutdown signal (one abort listener each, removed when the
    // call ends): many concurrent calls are expected, not a leak, so Node's "possible leak" warning is off.
    setMaxListeners(0, this.#shutdown.signal);
    const handler = nodeAdapter({
      routes: options.routes,
      maxRequestBytes: options.maxRequestBytes,
      serviceRequestLimits: options.serviceRequestLimits ?? {},
      countedFields: options.countedFields ?? {},
      pendingRequestBytes: new PendingRequestBytes(limits.maxPendingRequestBytes),
      interceptors: [this.#calls.interceptor, ...(options.interceptors ?? [])],
      shutdownSignal: this.#shutdown.signal,
      jsonOptions: strictJsonOptions,
      seen: options.unseenCalls?.seen ?? (() => true),
      onUnseen: options.unseenCalls?.onUnseen ?? (() => undefined),
    });
    this.#http1 = http.createServer(
      {
        keepAliveTimeout: limits.idleTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      },
      handler,
    );
    // The HTTP/1.1 server is fed sockets by the listener below and never listens itself; Node starts its
    // header/request timeout checks and the connection list closeIdleConnections() uses on "listening".
    this.#http1.emit("listening");
    // While shutting down, a keep-alive connection is closed as soon as its response ends.
    this.#http1.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (this.#closing) response.setHeader("connection", "close");
      response.once("close", () => {
        if (this.#closing) request.socket.destroySoon();
      });
    });
    this.#http2 = http2.createServer({ settings: { maxConcurrentStreams: limits.maxConcurrentStreams } }, handler);
    this.#http2.on("session", (session) => this.#session(session));
    this.#http2.on("stream", (stream) => this.#boundRequest(stream));
    this.#listener = options.tls === undefined ? this.#plainListener() : this.#tlsListener(options.tls);
    this.#listener.maxConnections = limits.maxConnections;
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: GatewayServerOptions): Promise<GatewayServer> {
    const server = new GatewayServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#listener.once("error", reject);
      server.#listener.listen(options.port, options.host, () => {
        server.#listener.off("error", reject);
        resolve();
      });
    });
    return server;
  }

  /** The bound port. */
  get port(): number {
    const address = this.#listener.address();
    if (address === null || typeof address === "string") throw new Error("server is not listening");
    return address.port;
  }

  /** Calls running now. */
  get inFlightCalls(): number {
    return this.#calls.count;
  }

  /**
   * Stops accepting connections and closes idle ones at once (HTTP/2 clients get GOAWAY), lets in-flight calls
   * finish for the grace period, then ends what is left with UNAVAILABLE ("shutting down", which clients may
   * retry elsewhere) and closes every connection. Resolves as soon as the last call has ended. Safe to call
   * more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    for (const socket of this.#undecided) socket.destroy();
    for (const session of this.#sessions) session.close();
    this.#http1.closeIdleConnections();
    // HTTP/2 sessions close themselves once their last stream ends (GOAWAY sent above), HTTP/1.1 connections
    // once their response ends (see the "request" listener): all closed means every call has finished.
    const drained = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#sockets.size === 0) resolve();
      };
      check();
      for (const socket of this.#sockets) socket.once("close", check);
    });
    if (!(await settledWithin(drained, this.#options.shutdownGraceMs))) {
      this.#shutdown.abort(
        new ConnectError("the gateway is shutting down; retry the call on another instance", Code.Unavailable),
      );
      await settledWithin(drained, abortFlushMs);
    }
    for (const socket of this.#sockets) socket.destroy();
    await listenerClosed;
    // Stops the HTTP/1.1 server's timeout checks (it never listened, so Node reports that; nothing to act on).
    this.#http1.close(() => undefined);
  }

  #plainListener(): net.Server {
    return net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  /**
   * TLS with ALPN (h2 for gRPC, http/1.1 for Connect and gRPC-Web over HTTP/1.1); the decrypted stream is then
   * sniffed like a plain connection. The handshake must end within sniffTimeoutMs.
   */
  #tlsListener(config: NonNullable<GatewayServerOptions["tls"]>): net.Server {
    const mutual = config.clientCa !== undefined;
    const server = tls.createServer(
      {
        cert: config.certificate,
        key: config.privateKey,
        ...(mutual ? { ca: config.clientCa, requestCert: true, rejectUnauthorized: true } : {}),
        ALPNProtocols: ["h2", "http/1.1"],
        handshakeTimeout: this.#options.limits.sniffTimeoutMs,
        noDelay: true,
      },
      (socket) => this.#accept(socket),
    );
    // A failed handshake (no or a wrong client certificate, not TLS at all) closes that connection only.
    server.on("tlsClientError", () => undefined);
    return server;
  }

  #session(session: http2.ServerHttp2Session): void {
    this.#sessions.add(session);
    session.once("close", () => this.#sessions.delete(session));
    // GOAWAY after idleTimeoutMs without a frame: open streams still finish (close() is graceful).
    session.setTimeout(this.#options.limits.idleTimeoutMs, () => session.close());
    if (this.#closing) session.close();
  }

  /** An HTTP/2 request whose message has not arrived whole within requestTimeoutMs is reset. */
  #boundRequest(stream: http2.ServerHttp2Stream): void {
    const timer = setTimeout(() => {
      if (!stream.readableEnded) stream.close(http2.constants.NGHTTP2_CANCEL);
    }, this.#options.limits.requestTimeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    stream.once("end", clear);
    stream.once("close", clear);
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    socket.setNoDelay(true);
    this.#undecided.add(socket);
    const sniffTimer = setTimeout(() => socket.destroy(), this.#options.limits.sniffTimeoutMs);
    let received: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, http2Preface.length);
      const looksHttp2 = received.subarray(0, compared).equals(http2Preface.subarray(0, compared));
      if (looksHttp2 && compared < http2Preface.length) return;
      clearTimeout(sniffTimer);
      this.#undecided.delete(socket);
      socket.off("data", onData);
      socket.pause();
      socket.unshift(received);
      if (looksHttp2) {
        this.#http2.emit("connection", socket);
      } else {
        this.#http1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.once("close", () => {
      clearTimeout(sniffTimer);
      this.#undecided.delete(socket);
    });
  }
}

/** Whether `promise` settled within `ms` (it is not cancelled either way). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
