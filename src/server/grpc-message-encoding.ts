import type http from "node:http";
import type http2 from "node:http2";

/**
 * Re-encodes `grpc-message` as the gRPC spec says: percent-encode only bytes outside printable ASCII
 * (0x20-0x7E) and `%`. connect-es percent-encodes with `encodeURIComponent`, which also encodes `:`, `,`, `/`,
 * `=` and more; grpc-js decodes with `decodeURI`, which leaves those encoded, so its callers read
 * "messages%3A at least one message is required". Spec encoding reads cleanly in grpc-js, Python and Go.
 */
export function specEncodedGrpcMessage(encoded: string): string {
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

type Headers = http.OutgoingHttpHeaders;

function respec(headers: Headers | undefined): Headers | undefined {
  const message = headers?.["grpc-message"];
  if (headers === undefined || typeof message !== "string") return headers;
  return { ...headers, "grpc-message": specEncodedGrpcMessage(message) };
}

/**
 * Makes a response write `grpc-message` spec-encoded, in trailers and in trailers-only responses (headers),
 * whichever connect-es uses for a call.
 */
export function respecGrpcMessages(response: http.ServerResponse | http2.Http2ServerResponse): void {
  const writeHead = response.writeHead.bind(response) as (status: number, headers?: Headers) => unknown;
  const addTrailers = response.addTrailers.bind(response) as (trailers: Headers) => void;
  Object.assign(response, {
    writeHead: (status: number, headers?: Headers) => writeHead(status, respec(headers)),
    addTrailers: (trailers: Headers) => addTrailers(respec(trailers) ?? trailers),
  });
}
