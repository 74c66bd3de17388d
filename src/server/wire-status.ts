import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalServerResponse } from "@connectrpc/connect/protocol";
import { endStreamFlag, endStreamFromJson, errorFromJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse } from "@connectrpc/connect/protocol-grpc-web";
import { wholeEnvelope } from "./envelope.js";

/**
 * The status a call ended with, read back from what was written for it, for each protocol: gRPC's trailers
 * (or headers, trailers-only), gRPC-Web's trailer frame, Connect's end-stream message and Connect unary's error
 * body. `undefined` means OK. Used for calls that ended before any interceptor saw them (a body that does not
 * decode, an unsupported content type), whose error object the gateway never holds.
 */
export function wireStatus(
  response: UniversalServerResponse,
  lastChunk: Uint8Array | undefined,
): ConnectError | undefined {
  const contentType = response.header?.get("content-type") ?? "";
  if (/^application\/grpc-web/i.test(contentType)) {
    const last = wholeEnvelope(lastChunk);
    return last !== undefined && (last.flags & trailerFlag) === trailerFlag
      ? findTrailerError(trailerParse(last.data))
      : undefined;
  }
  if (/^application\/grpc/i.test(contentType)) {
    return findTrailerError(response.trailer ?? new Headers()) ?? findTrailerError(response.header ?? new Headers());
  }
  if (/^application\/connect\+/i.test(contentType)) {
    const last = wholeEnvelope(lastChunk);
    if (last === undefined || (last.flags & endStreamFlag) !== endStreamFlag) return undefined;
    return endStreamFromJson(last.data).error;
  }
  if (response.status === 200) return undefined;
  if (lastChunk === undefined) return new ConnectError(`HTTP ${String(response.status)}`, Code.Unknown);
  try {
    return errorFromJsonBytes(lastChunk, undefined, new ConnectError(`HTTP ${String(response.status)}`, Code.Unknown));
  } catch (error) {
    return ConnectError.from(error);
  }
}
