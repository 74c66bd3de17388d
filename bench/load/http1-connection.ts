import net from "node:net";
import type { RequestSpec } from "../setup/bench-payloads.js";
import { Http1ResponseParser } from "./http1-response-parser.js";

/** A finished HTTP/1.1 exchange. */
export interface Http1Response {
  status: number;
  bodyBytes: number;
}

/** Called with body bytes as they arrive (streams). */
export type BodyListener = (data: Buffer) => void;

/** The request bytes of `spec` for `host`, prebuilt once: request line, headers, content-length, body. */
export function http1RequestBytes(host: string, spec: RequestSpec): Buffer {
  let head = `POST ${spec.path} HTTP/1.1\r\nhost: ${host}\r\nconnection: keep-alive\r\ncontent-length: ${spec.body.length}\r\n`;
  for (const [name, value] of Object.entries(spec.headers)) head += `${name}: ${value}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, "latin1"), spec.body]);
}

/**
 * One keep-alive HTTP/1.1 connection of the lean Node load driver: a raw socket (Nagle off) that writes
 * prebuilt request bytes and parses just enough of each response to know when it ended. One request at a
 * time, like wrk's connections.
 */
export class Http1Connection {
  readonly #socket: net.Socket;
  readonly #connected: Promise<void>;
  #current:
    | { resolve: (response: Http1Response) => void; reject: (error: Error) => void; onBody: BodyListener | undefined }
    | undefined;
  #status = 0;
  #bodyBytes = 0;
  #failure: Error | undefined;

  constructor(host: string, port: number) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#connected = new Promise((resolve, reject) => {
      this.#socket.once("connect", resolve);
      this.#socket.once("error", reject);
    });
    this.#connected.catch(() => undefined);
    const parser = new Http1ResponseParser({
      head: (status) => {
        this.#status = status;
        this.#bodyBytes = 0;
      },
      body: (data) => {
        this.#bodyBytes += data.length;
        this.#current?.onBody?.(data);
      },
      end: () => {
        const current = this.#current;
        this.#current = undefined;
        current?.resolve({ status: this.#status, bodyBytes: this.#bodyBytes });
      },
    });
    this.#socket.on("data", (chunk: Buffer) => parser.push(chunk));
    const fail = (error: Error): void => {
      this.#failure = error;
      const current = this.#current;
      this.#current = undefined;
      current?.reject(error);
    };
    this.#socket.on("error", fail);
    this.#socket.on("close", () => fail(new Error("connection closed")));
  }

  /** Waits for the TCP connection. */
  connect(): Promise<void> {
    return this.#connected;
  }

  /** Sends one request and resolves when its response has been read whole. */
  send(request: Buffer, onBody?: BodyListener): Promise<Http1Response> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#current !== undefined) return Promise.reject(new Error("one request at a time"));
    return new Promise((resolve, reject) => {
      this.#current = { resolve, reject, onBody };
      this.#socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}
