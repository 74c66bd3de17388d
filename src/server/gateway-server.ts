import http from "node:http";
import http2 from "node:http2";
import { setMaxListeners } from "node:events";
import net from "node:net";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";

/** How the gateway's listener is set up. */
export interface GatewayServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  maxRequestBytes: number;
  /** How long close() lets in-flight calls finish before it aborts them. */
  shutdownGraceMs: number;
  routes: (router: ConnectRouter) => void;
  interceptors?: Interceptor[];
}

const http2Preface = Buffer.from("PRI * HTTP/2.0");

/**
 * Proto3 strings are UTF-8: JSON bodies with invalid bytes are rejected (INVALID_ARGUMENT) instead of having
 * U+FFFD substituted. connect-es reads `textDecoder` from its JSON options although its type does not list it;
 * test/server/bad-input.e2e.test.ts guards that.
 */
const strictJsonOptions = { ignoreUnknownFields: true, textDecoder: new TextDecoder("utf-8", { fatal: true }) };

/**
 * One TCP port serving gRPC (HTTP/2 cleartext), gRPC-Web and Connect (HTTP/1.1 and HTTP/2): each connection's
 * first bytes are sniffed for the HTTP/2 preface and handed to the HTTP/2 or the HTTP/1.1 server, both
 * running the same Connect handler. Nagle is off on every socket so stream chunks leave at once.
 */
export class GatewayServer {
  readonly #listener: net.Server;
  readonly #http1: http.Server;
  readonly #http2: http2.Http2Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  /** HTTP/1.1 sockets and the requests each is serving: an idle one (0) is closed at once on shutdown. */
  readonly #http1Active = new Map<net.Socket, number>();
  readonly #shutdown = new AbortController();
  readonly #graceMs: number;
  #closing: Promise<void> | undefined;

  private constructor(options: GatewayServerOptions) {
    this.#graceMs = options.shutdownGraceMs;
    // connect-es links every in-flight call to the shutdown signal (one abort listener each, removed when the
    // call ends): many concurrent calls are expected, not a leak, so Node's "possible leak" warning is off.
    setMaxListeners(0, this.#shutdown.signal);
    const handler = connectNodeAdapter({
      routes: options.routes,
      readMaxBytes: options.maxRequestBytes,
      interceptors: options.interceptors ?? [],
      shutdownSignal: this.#shutdown.signal,
      jsonOptions: strictJsonOptions,
    });
    this.#http1 = http.createServer({ keepAliveTimeout: 65_000 }, handler);
    this.#http1.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => this.#track(request.socket, response));
    this.#http2 = http2.createServer({}, handler);
    this.#http2.on("session", (session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
    });
    this.#listener = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
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

  /**
   * Stops accepting connections, lets in-flight calls finish for the grace period (HTTP/2 clients get
   * GOAWAY), then aborts what is left. Safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const listenerClosed = new Promise<void>((resolve) => this.#listener.close(() => resolve()));
    for (const session of this.#sessions) session.close();
    // The HTTP/1.1 server is fed sockets without listening, so its own closeIdleConnections() cannot see them:
    // idle keep-alive sockets are closed here, busy ones as soon as their response ends (see #track).
    for (const [socket, active] of this.#http1Active) if (active === 0) socket.destroy();
    const drained = new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#sockets.size === 0) resolve();
      };
      check();
      for (const socket of this.#sockets) socket.once("close", check);
    });
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#graceMs)));
    await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    this.#shutdown.abort();
    for (const socket of this.#sockets) socket.destroy();
    await listenerClosed;
  }

  /** Counts a request on its HTTP/1.1 socket until its response ends; closes the socket then if shutting down. */
  #track(socket: net.Socket, response: http.ServerResponse): void {
    this.#http1Active.set(socket, (this.#http1Active.get(socket) ?? 0) + 1);
    if (this.#closing && !response.headersSent) response.setHeader("connection", "close");
    response.once("close", () => {
      const active = (this.#http1Active.get(socket) ?? 1) - 1;
      this.#http1Active.set(socket, active);
      if (this.#closing && active === 0) socket.destroySoon();
    });
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.setNoDelay(true);
    let received: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const compared = Math.min(received.length, http2Preface.length);
      const looksHttp2 = received.subarray(0, compared).equals(http2Preface.subarray(0, compared));
      if (looksHttp2 && compared < http2Preface.length) return;
      socket.off("data", onData);
      socket.pause();
      socket.unshift(received);
      if (looksHttp2) {
        this.#http2.emit("connection", socket);
      } else {
        this.#http1Active.set(socket, 0);
        socket.once("close", () => this.#http1Active.delete(socket));
        this.#http1.emit("connection", socket);
        socket.resume();
      }
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  }
}
