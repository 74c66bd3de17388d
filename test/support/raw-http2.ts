import net from "node:net";

/** HTTP/2 frame types this client reads or writes (RFC 9113 §6). */
export const frameType = {
  data: 0x0,
  headers: 0x1,
  rstStream: 0x3,
  settings: 0x4,
  ping: 0x6,
  goaway: 0x7,
  windowUpdate: 0x8,
  continuation: 0x9,
} as const;

const flagEndStream = 0x1;
const flagAck = 0x1;
/** END_HEADERS, on HEADERS and CONTINUATION frames. */
export const flagEndHeaders = 0x4;
/** SETTINGS_MAX_CONCURRENT_STREAMS */
export const settingMaxConcurrentStreams = 0x3;
/** SETTINGS_INITIAL_WINDOW_SIZE */
const settingInitialWindowSize = 0x4;
/** The initial flow-control window of a connection and of a stream (RFC 9113 §6.9.2). */
const defaultWindow = 65_535;
/** The largest DATA payload a peer must accept without a SETTINGS_MAX_FRAME_SIZE saying more. */
const maxFramePayload = 16_384;

/** The client connection preface (RFC 9113 §3.4). */
export const http2Preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
function hpackInteger(value: number, prefixBits: number, first: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const bytes = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** A header block of literal fields without indexing, new names, no Huffman (RFC 7541 §6.2.2). */
export function hpackLiterals(headers: readonly (readonly [string, string])[]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of headers) {
    parts.push(Buffer.from([0x00]));
    parts.push(hpackInteger(Buffer.byteLength(name), 7, 0), Buffer.from(name, "latin1"));
    parts.push(hpackInteger(Buffer.byteLength(value), 7, 0), Buffer.from(value, "latin1"));
  }
  return Buffer.concat(parts);
}

/**
 * A hand-written HTTP/2 client over one TCP connection, for attacks a well-behaved client library refuses to
 * make (streams past the peer's SETTINGS_MAX_CONCURRENT_STREAMS, requests whose body never ends). It records
 * what the server sent: its settings, RST_STREAM codes per stream, GOAWAY, and which streams got response
 * headers. It answers PINGs; it acknowledges the server's SETTINGS only when asked to.
 */
export class RawHttp2Client {
  readonly socket: net.Socket;
  /** SETTINGS the server sent (identifier → value). */
  readonly serverSettings = new Map<number, number>();
  /** RST_STREAM received: stream id → error code. */
  readonly resets = new Map<number, number>();
  /** When each RST_STREAM arrived (performance.now()). */
  readonly resetAt = new Map<number, number>();
  /** Streams that received a HEADERS frame. */
  readonly answered = new Set<number>();
  goaway: { lastStreamId: number; code: number } | undefined;
  /** Resolves when the TCP connection is closed. */
  readonly closed: Promise<void>;
  /** Resolves once the server's first SETTINGS frame arrived. */
  readonly settled: Promise<void>;
  #pending: Buffer = Buffer.alloc(0);
  #nextStreamId = 1;
  #settingsArrived: () => void = () => undefined;
  readonly #ackSettings: boolean;
  readonly #listeners = new Set<() => void>();
  /** Flow control: what the server lets this client send on the connection and on each stream. */
  #connectionWindow = defaultWindow;
  readonly #streamWindows = new Map<number, number>();
  /** DATA waiting for flow-control window, per stream (see `send`). */
  readonly #queued = new Map<number, Buffer[]>();
  /** Bytes of DATA sent by `send` so far. */
  sentBytes = 0;

  private constructor(socket: net.Socket, ackSettings: boolean) {
    this.socket = socket;
    this.#ackSettings = ackSettings;
    this.settled = new Promise((resolve) => (this.#settingsArrived = resolve));
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => this.#read(chunk));
  }

  /** Connects, sends the preface and an empty SETTINGS frame. */
  static async connect(port: number, options: { ackSettings: boolean }): Promise<RawHttp2Client> {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new RawHttp2Client(socket, options.ackSettings);
    socket.write(Buffer.concat([http2Preface, frame(frameType.settings, 0, 0, Buffer.alloc(0))]));
    return client;
  }

  /** Calls `listener` after each frame read (for waiting on a condition). */
  onFrame(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once `condition()` holds after a frame, or the connection closed. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.onFrame(() => {
        if (condition()) {
          stop();
          resolve();
        }
      });
      void this.closed.then(() => {
        stop();
        resolve();
      });
    });
  }

  /**
   * Opens a stream with these request headers and, if given, one DATA frame (END_STREAM only if `end`).
   * Returns the stream id. Writes are not awaited: the socket buffers them.
   */
  request(headers: readonly (readonly [string, string])[], data?: Buffer, end = false): number {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    const frames = [
      frame(
        frameType.headers,
        flagEndHeaders | (data === undefined && end ? flagEndStream : 0),
        id,
        hpackLiterals(headers),
      ),
    ];
    if (data !== undefined) {
      frames.push(frame(frameType.data, end ? flagEndStream : 0, id, data));
      this.#connectionWindow -= data.length;
      this.#streamWindows.set(id, this.#streamWindow(id) - data.length);
    }
    this.socket.write(Buffer.concat(frames));
    return id;
  }

  /**
   * Sends `data` on an open stream as fast as the server's flow-control windows allow (never END_STREAM): what
   * does not fit waits for WINDOW_UPDATE frames. The buffer is sent from, not copied.
   */
  send(streamId: number, data: Buffer): void {
    const queued = this.#queued.get(streamId);
    if (queued) queued.push(data);
    else this.#queued.set(streamId, [data]);
    this.#pump();
  }

  /** Bytes `send` still holds back for lack of window. */
  get queuedBytes(): number {
    let total = 0;
    for (const buffers of this.#queued.values()) for (const data of buffers) total += data.length;
    return total;
  }

  #streamWindow(streamId: number): number {
    return this.#streamWindows.get(streamId) ?? this.serverSettings.get(settingInitialWindowSize) ?? defaultWindow;
  }

  #pump(): void {
    let progressed = true;
    while (progressed && this.#connectionWindow > 0 && !this.socket.destroyed) {
      progressed = false;
      for (const [streamId, buffers] of this.#queued) {
        const data = buffers[0];
        if (data === undefined || this.resets.has(streamId)) {
          this.#queued.delete(streamId);
          continue;
        }
        const size = Math.min(maxFramePayload, this.#connectionWindow, this.#streamWindow(streamId), data.length);
        if (size <= 0) continue;
        this.socket.write(frame(frameType.data, 0, streamId, data.subarray(0, size)));
        this.sentBytes += size;
        this.#connectionWindow -= size;
        this.#streamWindows.set(streamId, this.#streamWindow(streamId) - size);
        if (size < data.length) buffers[0] = data.subarray(size);
        else buffers.shift();
        progressed = true;
      }
    }
  }

  /** Writes one frame as given (for frames `request` and `send` do not make). */
  writeFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    this.socket.write(frame(type, flags, streamId, payload));
  }

  /** Streams opened so far. */
  get opened(): number {
    return (this.#nextStreamId - 1) / 2;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    while (this.#pending.length >= 9) {
      const length = this.#pending.readUIntBE(0, 3);
      if (this.#pending.length < 9 + length) break;
      const type = this.#pending.readUInt8(3);
      const flags = this.#pending.readUInt8(4);
      const streamId = this.#pending.readUInt32BE(5) & 0x7fffffff;
      const payload = this.#pending.subarray(9, 9 + length);
      this.#pending = this.#pending.subarray(9 + length);
      this.#frame(type, flags, streamId, payload);
      for (const listener of [...this.#listeners]) listener();
    }
  }

  #frame(type: number, flags: number, streamId: number, payload: Buffer): void {
    switch (type) {
      case frameType.settings:
        if ((flags & flagAck) !== 0) return;
        for (let at = 0; at + 6 <= payload.length; at += 6) {
          this.serverSettings.set(payload.readUInt16BE(at), payload.readUInt32BE(at + 2));
        }
        if (this.#ackSettings) this.socket.write(frame(frameType.settings, flagAck, 0, Buffer.alloc(0)));
        this.#settingsArrived();
        return;
      case frameType.ping:
        if ((flags & flagAck) === 0) this.socket.write(frame(frameType.ping, flagAck, 0, payload));
        return;
      case frameType.rstStream:
        this.resets.set(streamId, payload.readUInt32BE(0));
        this.resetAt.set(streamId, performance.now());
        return;
      case frameType.goaway:
        this.goaway = { lastStreamId: payload.readUInt32BE(0) & 0x7fffffff, code: payload.readUInt32BE(4) };
        return;
      case frameType.headers:
        this.answered.add(streamId);
        return;
      case frameType.windowUpdate: {
        const increment = payload.readUInt32BE(0) & 0x7fffffff;
        if (streamId === 0) this.#connectionWindow += increment;
        else this.#streamWindows.set(streamId, this.#streamWindow(streamId) + increment);
        this.#pump();
        return;
      }
      default:
        return;
    }
  }
}

/** A gRPC message frame: the 5-byte prefix (not compressed, `declaredLength`) and `body`. */
export function grpcFrame(declaredLength: number, body: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([prefix, body]);
}
