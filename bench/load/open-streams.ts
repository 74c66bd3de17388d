import http2 from "node:http2";
import type { RequestSpec } from "../setup/bench-payloads.js";
import { EnvelopeReader } from "./frame-readers.js";
import { LatencySamples, type LatencyMs } from "./load-result.js";

/** How a set of open streams came up. */
export interface OpenedStreams {
  requested: number;
  /** Streams that received their first message within the time allowed. */
  started: number;
  /** Streams that ended or failed while they should have stayed open. */
  ended: number;
  /** From the first request to the last first message (or the time allowed). */
  rampMs: number;
  ttfcMs: LatencyMs;
}

/**
 * Many long gRPC streams held open at once (the scaling rows): `count` StreamChat calls spread over HTTP/2
 * sessions of `perSession` streams, each counting the messages it receives (frames only, no decoding, so the
 * driver stays cheap). `messages` is the running total; `close()` cancels every stream.
 */
export class OpenStreams {
  messages = 0;
  #ended = 0;
  readonly #sessions: http2.ClientHttp2Session[] = [];

  private constructor() {}

  /** Opens the streams and waits until each received its first message, or `timeoutMs` passed. */
  static async open(
    url: string,
    spec: RequestSpec,
    count: number,
    perSession: number,
    timeoutMs: number,
  ): Promise<{ streams: OpenStreams; opened: OpenedStreams }> {
    const streams = new OpenStreams();
    const ttfc = new LatencySamples();
    const started = performance.now();
    let firstSeen = 0;
    let lastFirstAt = started;
    let allStarted: () => void = () => undefined;
    const everyoneStarted = new Promise<void>((resolve) => (allStarted = resolve));
    for (let opened = 0; opened < count; opened += perSession) {
      const session = http2.connect(url);
      session.on("error", () => undefined);
      streams.#sessions.push(session);
      for (let i = opened; i < Math.min(count, opened + perSession); i++) {
        const sentAt = performance.now();
        let first = true;
        const frames = new EnvelopeReader(() => {
          streams.messages++;
          if (!first) return;
          first = false;
          lastFirstAt = performance.now();
          ttfc.add(lastFirstAt - sentAt);
          if (++firstSeen === count) allStarted();
        });
        const stream = session.request({ ":method": "POST", ":path": spec.path, ...spec.headers });
        stream.on("data", (data: Buffer) => frames.push(data));
        stream.on("error", () => undefined);
        stream.on("close", () => streams.#ended++);
        stream.end(spec.body);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([everyoneStarted, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    return {
      streams,
      opened: {
        requested: count,
        started: firstSeen,
        ended: streams.#ended,
        rampMs: lastFirstAt - started,
        ttfcMs: ttfc.summary(),
      },
    };
  }

  /** Streams that ended since they were opened (they should not, while the upstream is still sending). */
  get ended(): number {
    return this.#ended;
  }

  /** Cancels every stream (RST_STREAM via session teardown). */
  close(): void {
    for (const session of this.#sessions) session.destroy();
  }
}
