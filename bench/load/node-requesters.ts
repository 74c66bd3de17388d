import http2 from "node:http2";
import type { RequestSpec } from "../setup/bench-payloads.js";
import { Http1Connection, http1RequestBytes } from "./http1-connection.js";
import type { DriverName } from "./load-result.js";

/** One connection of a load driver: sends the same request again and again, one at a time. */
export interface Requester {
  /** Resolves true when the call succeeded (HTTP 200; gRPC status 0). */
  send(): Promise<boolean>;
  close(): void;
}

/** Opens connections of one kind to one target. */
export interface RequesterFactory {
  driver: DriverName;
  open(): Promise<Requester>;
}

/** HTTP/1.1 keep-alive connections on raw sockets (Connect JSON, or the emulator's OpenAI API). */
export function http1Requesters(url: string, spec: RequestSpec): RequesterFactory {
  const target = new URL(url);
  const bytes = http1RequestBytes(target.host, spec);
  return {
    driver: "node-http1",
    async open() {
      const connection = new Http1Connection(target.hostname, Number(target.port));
      await connection.connect();
      return {
        send: async () => (await connection.send(bytes)).status === 200,
        close: () => connection.close(),
      };
    },
  };
}

/** The gRPC status of a finished HTTP/2 stream: from its trailers, or from its headers for a trailers-only answer. */
function grpcStatusOf(
  headers: http2.IncomingHttpHeaders,
  trailers: http2.IncomingHttpHeaders | undefined,
): string | undefined {
  const value = trailers?.["grpc-status"] ?? headers["grpc-status"];
  return Array.isArray(value) ? value[0] : value;
}

/** Sends one gRPC call on `session` and resolves with whether it ended with status 0. */
export function grpcCall(
  session: http2.ClientHttp2Session,
  spec: RequestSpec,
  onData?: (data: Buffer) => void,
): Promise<boolean> {
  return new Promise((resolve) => {
    const stream = session.request({ ":method": "POST", ":path": spec.path, ...spec.headers });
    let headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    stream.on("response", (received) => (headers = received));
    stream.on("trailers", (received) => (trailers = received));
    stream.on("data", (data: Buffer) => onData?.(data));
    stream.on("error", () => resolve(false));
    stream.on("close", () => resolve(headers[":status"] === 200 && grpcStatusOf(headers, trailers) === "0"));
    stream.end(spec.body);
  });
}

/** An HTTP/2 session to `url`, once connected; later session errors end its calls, not the process. */
export async function connectHttp2(url: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(url);
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  session.on("error", () => undefined);
  return session;
}

/** One HTTP/2 connection per requester, one gRPC call at a time on it (h2load's `-m 1`). */
export function grpcRequesters(url: string, spec: RequestSpec): RequesterFactory {
  return {
    driver: "node-http2",
    async open() {
      const session = await connectHttp2(url);
      return {
        send: () => grpcCall(session, spec),
        close: () => session.destroy(),
      };
    },
  };
}
