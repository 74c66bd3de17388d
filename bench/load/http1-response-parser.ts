/** What the parser reports as a response arrives. */
export interface Http1ResponseEvents {
  head(status: number): void;
  /** Body bytes as they arrive, de-chunked. */
  body(data: Buffer): void;
  end(): void;
}

type State = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailers";

const crlf = Buffer.from("\r\n");
const headEnd = Buffer.from("\r\n\r\n");

/**
 * A minimal incremental HTTP/1.1 response parser for the benchmark's own load driver: status line, the
 * content-length or chunked framing, keep-alive responses back to back. It does not look at anything else,
 * so it costs the driver little and leaves the CPU to the processes measured.
 */
export class Http1ResponseParser {
  #state: State = "head";
  #buffer: Buffer = Buffer.alloc(0);
  #remaining = 0;

  constructor(private readonly events: Http1ResponseEvents) {}

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#step());
  }

  /** Consumes what it can; false when it needs more bytes. */
  #step(): boolean {
    const buffer = this.#buffer;
    switch (this.#state) {
      case "head": {
        const at = buffer.indexOf(headEnd);
        if (at === -1) return false;
        const head = buffer.toString("latin1", 0, at);
        this.#buffer = buffer.subarray(at + 4);
        const status = Number(head.slice(9, 12));
        const lower = head.toLowerCase();
        const lengthMatch = /\r\ncontent-length:\s*(\d+)/.exec(lower);
        this.events.head(status);
        if (lower.includes("\r\ntransfer-encoding: chunked")) {
          this.#state = "chunk-size";
        } else {
          this.#remaining = lengthMatch?.[1] === undefined ? 0 : Number(lengthMatch[1]);
          this.#state = "length";
        }
        return true;
      }
      case "length": {
        const take = Math.min(this.#remaining, buffer.length);
        if (take > 0) this.events.body(buffer.subarray(0, take));
        this.#remaining -= take;
        this.#buffer = buffer.subarray(take);
        if (this.#remaining > 0) return false;
        this.#finish();
        return true;
      }
      case "chunk-size": {
        const at = buffer.indexOf(crlf);
        if (at === -1) return false;
        const size = Number.parseInt(buffer.toString("latin1", 0, at), 16);
        this.#buffer = buffer.subarray(at + 2);
        if (size === 0) {
          this.#state = "trailers";
        } else {
          this.#remaining = size;
          this.#state = "chunk-data";
        }
        return true;
      }
      case "chunk-data": {
        if (buffer.length === 0) return false;
        const take = Math.min(this.#remaining, buffer.length);
        this.events.body(buffer.subarray(0, take));
        this.#remaining -= take;
        this.#buffer = buffer.subarray(take);
        if (this.#remaining > 0) return false;
        this.#state = "chunk-end";
        return true;
      }
      case "chunk-end": {
        if (buffer.length < 2) return false;
        this.#buffer = buffer.subarray(2);
        this.#state = "chunk-size";
        return true;
      }
      case "trailers": {
        const at = buffer.indexOf(crlf);
        if (at === -1) return false;
        this.#buffer = buffer.subarray(at + 2);
        if (at === 0) this.#finish();
        return true;
      }
    }
  }

  #finish(): void {
    this.#state = "head";
    this.events.end();
  }
}
