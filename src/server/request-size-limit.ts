import type { ConnectError } from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import { ProviderError } from "../providers/provider-error.js";
import { envelopeHeaderBytes } from "./envelope.js";
import { toConnectError } from "./error-codes.js";
import { type CountedField, FieldCounter } from "./field-count.js";
import type { PendingRequestBytes } from "./pending-request-bytes.js";

/** The largest request message a method takes, and how an error names that limit. */
export interface RequestLimit {
  maxBytes: number;
  /** What the limit is, for the error: `server.maxRequestBytes`, or a service's own bound. */
  name: string;
  /** Why the limit is what it is, when that is not a setting. */
  reason?: string;
  /** Repeated fields bounded in count, counted in binary messages before they are decoded. */
  counted?: readonly CountedField[];
}

/** The error a request over its limit gets: it can never succeed, so INVALID_ARGUMENT (kind invalid_request). */
export function requestTooLarge(bytes: number, limit: RequestLimit): ConnectError {
  const message =
    `the request's message is ${String(bytes)} bytes, larger than ${limit.name} (${String(limit.maxBytes)} bytes)` +
    (limit.reason === undefined ? "" : `: ${limit.reason}`);
  return toConnectError(new ProviderError({ kind: "invalid_request", provider: "", message }));
}

function enveloped(contentType: string | null): boolean {
  return contentType !== null && /^application\/(grpc|grpc-web|connect\+)/i.test(contentType);
}

/** Binary protobuf: gRPC and gRPC-Web without a `+json` suffix, Connect's `proto`. */
function binary(contentType: string | null): boolean {
  return (
    contentType !== null && /^application\/((grpc|grpc-web)(\+proto)?|proto|connect\+proto)\s*(;|$)/i.test(contentType)
  );
}

/**
 * The body, refused once it is over the limit, or once the bytes of every request still arriving would pass
 * `pending`'s budget (what this one held is given back when it ends, however it ends). Iterated by hand: a
 * `for await` would await the Node request's `return()` on refusal, which waits for a stream that cannot close
 * before the refusal is answered.
 */
async function* checkedBody(
  body: AsyncIterable<Uint8Array>,
  limit: RequestLimit,
  isEnveloped: boolean,
  pending: PendingRequestBytes | undefined,
  counter: FieldCounter | undefined,
): AsyncGenerator<Uint8Array> {
  const { maxBytes } = limit;
  const chunks = body[Symbol.asyncIterator]();
  const refuse = (error: ConnectError): never => {
    // Stops the body (Node resets an HTTP/2 stream, so its sender stops): what is left is never read.
    chunks.return?.().catch(() => undefined);
    throw error;
  };
  let read = 0;
  let held = 0;
  /** Where the (one) message ends in the body: known from an envelope's header, the body's end otherwise. */
  let messageEnd = Number.POSITIVE_INFINITY;
  let header: Uint8Array | undefined = isEnveloped ? new Uint8Array(0) : undefined;
  try {
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) {
      const chunk = next.value;
      read += chunk.byteLength;
      if (header !== undefined) {
        const joined = new Uint8Array(header.byteLength + chunk.byteLength);
        joined.set(header);
        joined.set(chunk, header.byteLength);
        header = joined.byteLength < envelopeHeaderBytes ? joined : undefined;
        if (header === undefined) {
          const declared = new DataView(joined.buffer, joined.byteOffset).getUint32(1);
          if (declared > maxBytes) refuse(requestTooLarge(declared, limit));
          messageEnd = envelopeHeaderBytes + declared;
          // A compressed message cannot be counted before it is decompressed: decoding bounds it.
          if (((joined[0] ?? 0) & 1) === 1) counter = undefined;
        }
      }
      if (counter !== undefined) {
        // The message's own bytes in this chunk: after the envelope header, up to its declared end.
        const start = Math.max(0, (isEnveloped ? envelopeHeaderBytes : 0) - (read - chunk.byteLength));
        const end = Math.min(chunk.byteLength, messageEnd - (read - chunk.byteLength));
        if (!isEnveloped || messageEnd !== Number.POSITIVE_INFINITY) {
          if (end > start) counter.feed(chunk.subarray(start, end));
          if (read >= messageEnd) {
            const violation = counter.violation();
            if (violation !== undefined) refuse(violation);
            counter = undefined;
          }
        }
      }
      // Enveloped bodies hold one message (every RPC here takes one request) and its header.
      const payload = isEnveloped ? read - envelopeHeaderBytes : read;
      if (payload > maxBytes) refuse(requestTooLarge(payload, limit));
      if (pending !== undefined) {
        if (!pending.take(chunk.byteLength)) refuse(pending.refusal());
        held += chunk.byteLength;
      }
      yield chunk;
    }
    const violation = counter?.violation();
    if (violation !== undefined) throw violation;
  } finally {
    pending?.release(held);
  }
}

/**
 * Bounds a request's body by its limit (`server.maxRequestBytes`, or a service's own) before connect-es reads
 * it, so a request that is too large is refused with a message naming the limit (connect-es would say
 * "readMaxBytes" with RESOURCE_EXHAUSTED, HTTP 429, which tells clients to retry). The declared size is checked
 * first: a Content-Length or an envelope length over the limit is refused before the body is read; bytes past
 * the limit are never buffered.
 */
export function limitRequestSize(
  request: UniversalServerRequest,
  limit: RequestLimit,
  pending?: PendingRequestBytes,
): UniversalServerRequest {
  const { maxBytes } = limit;
  const body = request.body;
  if (typeof body !== "object" || body === null || !(Symbol.asyncIterator in body)) return request;
  const isEnveloped = enveloped(request.header.get("content-type"));
  const length = Number(request.header.get("content-length") ?? Number.NaN);
  if (!isEnveloped && Number.isSafeInteger(length) && length > maxBytes) {
    // connect-es checks Content-Length itself before reading: the body's first read refuses instead.
    request.header.delete("content-length");
    return {
      ...request,
      body: { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(requestTooLarge(length, limit)) }) },
    };
  }
  const contentType = request.header.get("content-type");
  const encoding = request.header.get("content-encoding");
  const counter =
    limit.counted !== undefined && binary(contentType) && (encoding === null || encoding === "identity")
      ? new FieldCounter(limit.counted)
      : undefined;
  return {
    ...request,
    body: checkedBody(body as AsyncIterable<Uint8Array>, limit, isEnveloped, pending, counter),
  };
}
