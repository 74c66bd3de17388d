import { fromBinary } from "@bufbuild/protobuf";
import { StreamChatResponseSchema } from "../../gen/llm/v1/llm_service_pb.js";
import type { RequestSpec } from "../setup/bench-payloads.js";
import { EnvelopeReader, SseReader } from "./frame-readers.js";
import { Http1Connection, http1RequestBytes } from "./http1-connection.js";
import type { DriverName } from "./load-result.js";
import { connectHttp2, grpcCall } from "./node-requesters.js";

/** When one stream's content arrived, relative to when it was sent. */
export interface StreamTiming {
  ok: boolean;
  /** Time to the first content chunk (a non-empty text delta). */
  ttfcMs: number;
  /** Time to the end of the response. */
  ttlcMs: number;
  chunks: number;
}

/** One connection that runs one stream at a time. */
export interface StreamConnection {
  stream(): Promise<StreamTiming>;
  close(): void;
}

/** Opens stream connections of one protocol to one target. */
export interface StreamConnectionFactory {
  driver: DriverName;
  open(): Promise<StreamConnection>;
}

/** Counts content chunks as messages are decoded and keeps the first one's time. */
class ChunkClock {
  readonly sentAt = performance.now();
  firstAt = 0;
  chunks = 0;
  failed = false;

  content(text: unknown): void {
    if (typeof text !== "string" || text === "") return;
    if (this.chunks === 0) this.firstAt = performance.now();
    this.chunks++;
  }

  timing(ok: boolean): StreamTiming {
    const end = performance.now();
    return {
      ok: ok && !this.failed && this.chunks > 0,
      ttfcMs: this.firstAt - this.sentAt,
      ttlcMs: end - this.sentAt,
      chunks: this.chunks,
    };
  }
}

interface SseChunk {
  choices?: { delta?: { content?: unknown } }[];
}

/** A connection whose streams are HTTP/1.1 responses, decoded by `reader`. */
function http1Streams(
  url: string,
  spec: RequestSpec,
  reader: (clock: ChunkClock) => (data: Buffer) => void,
): StreamConnectionFactory {
  const target = new URL(url);
  const bytes = http1RequestBytes(target.host, spec);
  return {
    driver: "node-http1",
    async open() {
      const connection = new Http1Connection(target.hostname, Number(target.port));
      await connection.connect();
      return {
        async stream() {
          const clock = new ChunkClock();
          const response = await connection.send(bytes, reader(clock));
          return clock.timing(response.status === 200);
        },
        close: () => connection.close(),
      };
    },
  };
}

/** The emulator's OpenAI SSE chat stream: content chunks are `choices[0].delta.content`. */
export function sseStreams(url: string, spec: RequestSpec): StreamConnectionFactory {
  return http1Streams(url, spec, (clock) => {
    const sse = new SseReader((data) => {
      if (data === "[DONE]") return;
      const chunk = JSON.parse(data) as SseChunk;
      clock.content(chunk.choices?.[0]?.delta?.content);
    });
    return (data) => sse.push(data);
  });
}

/** The gateway's Connect streaming over HTTP/1.1: JSON messages `{"delta": ...}`, then the end-of-stream message. */
export function connectStreams(url: string, spec: RequestSpec): StreamConnectionFactory {
  return http1Streams(url, spec, (clock) => {
    const envelopes = new EnvelopeReader((flags, message) => {
      const parsed = JSON.parse(message.toString("utf8")) as { delta?: unknown; error?: unknown };
      if ((flags & 2) === 2) {
        if (parsed.error !== undefined) clock.failed = true;
      } else {
        clock.content(parsed.delta);
      }
    });
    return (data) => envelopes.push(data);
  });
}

/** The gateway's gRPC streaming over HTTP/2: one session per connection, one stream at a time. */
export function grpcStreams(url: string, spec: RequestSpec): StreamConnectionFactory {
  return {
    driver: "node-http2",
    async open() {
      const session = await connectHttp2(url);
      return {
        async stream() {
          const clock = new ChunkClock();
          const frames = new EnvelopeReader((_flags, message) =>
            clock.content(fromBinary(StreamChatResponseSchema, message).delta),
          );
          const ok = await grpcCall(session, spec, (data) => frames.push(data));
          return clock.timing(ok);
        },
        close: () => session.destroy(),
      };
    },
  };
}
