import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import {
  endStreamFlag,
  endStreamFromJson,
  endStreamToJson,
  errorToJsonBytes,
} from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { wholeEnvelope } from "./envelope.js";

/** What connect-es prefixes a binary request's decoding error with (it answers them INTERNAL). */
const parsePrefix = "parse binary: ";

/** The caller's error a decoding failure becomes, with what was wrong; undefined for any other message. */
function callerError(message: string | null | undefined): ConnectError | undefined {
  if (message === null || message === undefined || !message.startsWith(parsePrefix)) return undefined;
  return new ConnectError(
    `the request's message does not decode: ${message.slice(parsePrefix.length)}`,
    Code.InvalidArgument,
  );
}

/** gRPC status headers (trailers, or the headers of a trailers-only answer), rewritten in place. */
function fixGrpcHeaders(headers: Headers | undefined): void {
  if (headers === undefined || headers.get("grpc-status") !== String(Code.Internal)) return;
  const raw = headers.get("grpc-message");
  let message: string | undefined;
  try {
    message = raw === null ? undefined : decodeURIComponent(raw);
  } catch {
    message = undefined;
  }
  const error = callerError(message);
  if (error === undefined) return;
  headers.set("grpc-status", String(error.code));
  headers.set("grpc-message", encodeURIComponent(error.rawMessage));
}

/** A whole envelope chunk that ends a gRPC-Web or Connect stream, rewritten when it carries a decoding error. */
function fixEndEnvelope(chunk: Uint8Array, grpcWeb: boolean): Uint8Array {
  const whole = wholeEnvelope(chunk);
  if (whole === undefined) return chunk;
  const { flags, data } = whole;
  if (grpcWeb) {
    if ((flags & trailerFlag) !== trailerFlag) return chunk;
    const trailer = trailerParse(data);
    fixGrpcHeaders(trailer);
    return encodeEnvelope(flags, trailerSerialize(trailer));
  }
  if ((flags & endStreamFlag) !== endStreamFlag) return chunk;
  const end = endStreamFromJson(data);
  const error = end.error?.code === Code.Internal ? callerError(end.error.rawMessage) : undefined;
  if (error === undefined) return chunk;
  return encodeEnvelope(
    flags,
    new TextEncoder().encode(JSON.stringify(endStreamToJson(end.metadata, error, undefined))),
  );
}

/**
 * The body with its first chunk passed through `map`: a call refused for its request answers before any
 * message, so its end envelope is the first chunk. Later chunks pass untouched.
 */
function firstChunkMapped(
  body: AsyncIterable<Uint8Array>,
  map: (chunk: Uint8Array) => Uint8Array,
): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      const inner = body[Symbol.asyncIterator]();
      let first = true;
      return {
        next: async () => {
          const result = await inner.next();
          if (!first || result.done === true) return result;
          first = false;
          return { done: false, value: map(result.value) };
        },
        return: async (value?: unknown) => (await inner.return?.(value)) ?? { done: true, value: undefined },
        throw: async (error?: unknown) => {
          if (inner.throw) return inner.throw(error);
          throw error;
        },
      };
    },
  };
}

/**
 * A request whose binary message does not decode (invalid UTF-8 in a string, a truncated field) is the caller's
 * error: INVALID_ARGUMENT saying what was wrong, not the INTERNAL connect-es answers with before any of the
 * gateway's code runs. Rewrites that one answer, in each protocol's framing (gRPC trailers, gRPC-Web's trailer
 * frame, Connect's end-stream message, Connect unary's error body); every other answer passes as it is.
 */
export async function reclassifyUndecodable(answer: UniversalServerResponse): Promise<UniversalServerResponse> {
  const contentType = answer.header?.get("content-type") ?? "";
  const body = answer.body;
  if (/^application\/grpc-web/i.test(contentType) || /^application\/connect\+/i.test(contentType)) {
    if (body === undefined) return answer;
    const grpcWeb = /^application\/grpc-web/i.test(contentType);
    return { ...answer, body: firstChunkMapped(body, (chunk) => fixEndEnvelope(chunk, grpcWeb)) };
  }
  if (/^application\/grpc/i.test(contentType)) {
    // connect-es answers once the first body chunk or the end is known: a refused request's status is set by then.
    fixGrpcHeaders(answer.header);
    fixGrpcHeaders(answer.trailer);
    return answer;
  }
  if (answer.status !== 500 || body === undefined || !/^application\/json/i.test(contentType)) return answer;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    parsed = undefined;
  }
  const message =
    typeof parsed === "object" &&
    parsed !== null &&
    "code" in parsed &&
    parsed.code === "internal" &&
    "message" in parsed
      ? String(parsed.message)
      : undefined;
  const error = callerError(message);
  const replayed = async function* (data: Uint8Array): AsyncGenerator<Uint8Array> {
    yield data;
  };
  if (error === undefined) return { ...answer, body: replayed(bytes) };
  const json = errorToJsonBytes(error, {});
  answer.header?.set("content-length", String(json.byteLength));
  return { ...answer, status: 400, body: replayed(json) };
}
