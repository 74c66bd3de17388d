import { pipeline, Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import zlib from "node:zlib";
import type { Dispatcher } from "undici";
import { responseHeadersArrived } from "./response-headers-watch.js";

/** The `fetch` signature the OpenAI and Anthropic SDKs accept as their `fetch` option. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * The fetch options the adapters give a call whose answer is streamed (the SDKs' `fetchOptions`): pooledFetch
 * then sends its body as a one-shot stream, so that no copy of the prompt is kept while the answer streams.
 */
export const streamedCall = { duplex: "half" } as const satisfies RequestInit;

/** Statuses whose responses have no body (a Response with a body and one of them cannot be built). */
const nullBodyStatuses = new Set([101, 204, 205, 304]);

/**
 * A `fetch` for the provider SDKs that sends each call straight through the provider's own undici pool
 * (`dispatcher.request`) instead of through WHATWG fetch, whose per-call machinery (request and response
 * objects, header guards, body mixins, its own abort plumbing) cost more CPU than everything else the gateway
 * does for a call (profile: ~1 ms of ~3.5 ms per unary chat on Node 20). The SDKs get a real `Response`:
 * JSON and error bodies read whole first (so `json()` is a plain parse), event streams as a web stream that
 * passes each chunk on as it arrives. The caller's signal aborts the upstream request (headers or body) with
 * the signal's reason, as fetch does; connection errors reject with undici's own error (for example
 * `ConnectTimeoutError`), which the SDKs recognise as they do fetch's wrapped one. Unlike fetch it follows no
 * redirects (the LLM APIs send none) and asks for no compression (a compressed answer is still decoded).
 * Anything else (a Request object, a streamed or form body) goes to the global fetch on the same pool.
 */
export function pooledFetch(dispatcher: Dispatcher): Fetch {
  const viaFetch: Fetch = async (input, init) => {
    const response = await fetch(input, { ...init, dispatcher: dispatcher as unknown as RequestInit["dispatcher"] });
    responseHeadersArrived(init);
    return response;
  };
  return async (input, init) => {
    const body = init?.body;
    if (
      input instanceof Request ||
      !(body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array)
    ) {
      return viaFetch(input, init);
    }
    const url = typeof input === "string" ? new URL(input) : input;
    const requestHeaders = headerRecord(init?.headers);
    // undici keeps a request's body until the answer ends: for a streamed answer, the stream's whole length.
    // A string is handed over as one Buffer (undici would keep the string and a copy); a streaming call's
    // (its adapter marks it `duplex: "half"`) as a one-shot stream of that Buffer with its length, which
    // nothing holds once it is sent.
    const bytes = typeof body === "string" ? Buffer.from(body) : undefined;
    if (bytes !== undefined && init?.duplex === "half") requestHeaders["content-length"] = String(bytes.byteLength);
    const answer = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: init?.method ?? "GET",
      headers: requestHeaders,
      body: bytes === undefined ? (body ?? null) : init?.duplex === "half" ? oneShot(bytes) : bytes,
      signal: init?.signal ?? null,
    });
    responseHeadersArrived(init);
    const status = answer.statusCode;
    const headers = responseHeaders(answer.headers);
    if (nullBodyStatuses.has(status)) {
      answer.body.resume();
      return new Response(null, { status, headers });
    }
    const encoding = headers.get("content-encoding");
    const content = decoded(answer.body, encoding);
    if ((headers.get("content-type") ?? "").includes("text/event-stream")) {
      const stream = Readable.toWeb(content) as NodeReadableStream<Uint8Array>;
      return new Response(stream as unknown as ReadableStream<Uint8Array>, { status, headers });
    }
    const whole = content === answer.body ? Buffer.from(await answer.body.arrayBuffer()) : await collect(content);
    return new Response(whole, { status, headers });
  };
}

/**
 * A stream of `bytes` that lets go of them once they are read. (`Readable.from([bytes])` keeps its array
 * iterator, and with it the bytes, for as long as the stream lives: undici keeps the stream till the answer ends.)
 */
function oneShot(bytes: Buffer): Readable {
  let pending: Buffer | undefined = bytes;
  return new Readable({
    read() {
      const chunk = pending;
      pending = undefined;
      this.push(chunk ?? null);
      if (chunk !== undefined) this.push(null);
    },
  });
}

/** Request headers as a plain record, from any HeadersInit. */
function headerRecord(init: RequestInit["headers"]): Record<string, string> {
  const record: Record<string, string> = {};
  if (init === undefined) return record;
  if (init instanceof Headers) {
    for (const [name, value] of init) record[name] = value;
    return record;
  }
  if (Array.isArray(init)) {
    for (const [name, value] of init) if (name !== undefined && value !== undefined) record[name.toLowerCase()] = value;
    return record;
  }
  for (const [name, value] of Object.entries(init))
    record[name.toLowerCase()] = typeof value === "string" ? value : value.join(", ");
  return record;
}

function responseHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const name in raw) {
    const value = raw[name];
    if (typeof value === "string") headers.append(name, value);
    else if (value !== undefined) for (const item of value) headers.append(name, item);
  }
  return headers;
}

/** The body decompressed as fetch would, when the server compressed it anyway. */
function decoded(body: Readable, encoding: string | null): Readable {
  const decoder =
    encoding === "gzip" || encoding === "x-gzip"
      ? zlib.createGunzip()
      : encoding === "deflate"
        ? zlib.createInflate()
        : encoding === "br"
          ? zlib.createBrotliDecompress()
          : undefined;
  return decoder === undefined ? body : pipeline(body, decoder, () => undefined);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
