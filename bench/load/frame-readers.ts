/** Splits a byte stream into the 5-byte-prefixed messages of gRPC and Connect streaming (flags, length, bytes). */
export class EnvelopeReader {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly onMessage: (flags: number, message: Buffer) => void) {}

  push(data: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    while (this.#buffer.length >= 5) {
      const length = this.#buffer.readUInt32BE(1);
      if (this.#buffer.length < 5 + length) return;
      const flags = this.#buffer.readUInt8(0);
      const message = this.#buffer.subarray(5, 5 + length);
      this.#buffer = this.#buffer.subarray(5 + length);
      this.onMessage(flags, message);
    }
  }
}

/** Splits a server-sent-events byte stream into the `data:` payloads of its events. */
export class SseReader {
  #text = "";

  constructor(private readonly onData: (data: string) => void) {}

  push(data: Buffer): void {
    this.#text += data.toString("utf8");
    for (let end = this.#text.indexOf("\n\n"); end !== -1; end = this.#text.indexOf("\n\n")) {
      const event = this.#text.slice(0, end);
      this.#text = this.#text.slice(end + 2);
      for (const line of event.split("\n")) if (line.startsWith("data: ")) this.onData(line.slice(6));
    }
  }
}
