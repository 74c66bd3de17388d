import type http from "node:http";
import type http2 from "node:http2";
import {
  type ConnectError,
  type ConnectRouterOptions,
  createConnectRouter,
  createContextValues,
  type ConnectRouter,
  type ContextValues,
} from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  compressionBrotli,
  compressionGzip,
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import { respecGrpcMessages } from "./grpc-message-encoding.js";
import type { CountedField } from "./field-count.js";
import type { PendingRequestBytes } from "./pending-request-bytes.js";
import { limitRequestSize, type RequestLimit } from "./request-size-limit.js";
import { reclassifyUndecodable } from "./undecodable-request.js";
import { wireStatus } from "./wire-status.js";
import { gatewayNow as now } from "../telemetry/gateway-clock.js";

/** A call no interceptor saw to its end, as the adapter observed it on the wire. */
export interface UnseenCall {
  handler: Pick<UniversalHandler, "service" | "method">;
  contextValues: ContextValues;
  /** What the call ended with; undefined is OK. */
  error: ConnectError | undefined;
  startedAt: number;
}

/** How the adapter is set up. */
export interface NodeAdapterOptions extends ConnectRouterOptions {
  routes: (router: ConnectRouter) => void;
  /** Largest request message (`server.maxRequestBytes`). */
  maxRequestBytes: number;
  /**
   * Smaller limits for services whose requests are small by nature (by service type name): their requests are
   * refused from the declared size, before any byte of a large message is buffered or decoded.
   */
  serviceRequestLimits?: Readonly<Record<string, RequestLimit>>;
  /**
   * Repeated fields bounded in count, by request path (`/llm.v1.LLMService/Chat`): counted in binary messages as
   * they arrive, so that an absurd count is refused before connect-es spends seconds decoding it.
   */
  countedFields?: Readonly<Record<string, readonly CountedField[]>>;
  /** The budget of bytes of request messages still arriving, over every request (`server.maxPendingRequestBytes`). */
  pendingRequestBytes?: PendingRequestBytes;
  /** Whether interceptors recorded the call (set in its context values); calls they did not go to `onUnseen`. */
  seen: (values: ContextValues) => boolean;
  /** Calls that ended before any interceptor recorded them: bodies that do not decode or are too large. */
  onUnseen: (call: UnseenCall) => void;
}

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/**
 * The gateway's Node request handler over connect-es's universal handlers (what connectNodeAdapter does, plus
 * what it leaves out): requests are bounded by `server.maxRequestBytes` with an error naming that setting;
 * `grpc-message` is spec-encoded; and calls that fail before any interceptor runs are still reported, so
 * every RPC, refused or not, has its log line and count.
 */
export function nodeAdapter(options: NodeAdapterOptions): (request: NodeRequest, response: NodeResponse) => void {
  const router = createConnectRouter({
    acceptCompression: [compressionGzip, compressionBrotli],
    ...options,
    readMaxBytes: options.maxRequestBytes,
  });
  options.routes(router);
  const paths = new Map<string, { handler: UniversalHandler; limit: RequestLimit }>();
  const defaultLimit: RequestLimit = { maxBytes: options.maxRequestBytes, name: "server.maxRequestBytes" };
  for (const handler of router.handlers) {
    const limit = options.serviceRequestLimits?.[handler.service.typeName] ?? defaultLimit;
    const counted = options.countedFields?.[handler.requestPath];
    paths.set(handler.requestPath, { handler, limit: counted === undefined ? limit : { ...limit, counted } });
  }
  return (request, response) => {
    respecGrpcMessages(response);
    const route = paths.get(request.url?.split("?", 2)[0] ?? "");
    if (route === undefined) {
      response.writeHead(404);
      response.end();
      return;
    }
    const { handler, limit } = route;
    const startedAt = now();
    const contextValues = createContextValues();
    let lastChunk: Uint8Array | undefined;
    const write = response.write.bind(response) as (chunk: Uint8Array, ...rest: unknown[]) => boolean;
    Object.assign(response, {
      write: (chunk: Uint8Array, ...rest: unknown[]) => {
        lastChunk = chunk;
        return write(chunk, ...rest);
      },
    });
    const universal = universalRequestFromNodeRequest(
      request as http.IncomingMessage,
      response as http.ServerResponse,
      undefined,
      contextValues,
    );
    void handler(limitRequestSize(universal, limit, options.pendingRequestBytes))
      .then(reclassifyUndecodable)
      .then((answer) => {
        // An HTTP/1.1 request refused before its body was read whole (too large) leaves the rest of that body
        // on the connection: close it after the answer instead of reading what follows as a new request.
        if (request.httpVersionMajor === 1 && !request.complete && !response.headersSent) {
          response.setHeader("connection", "close");
        }
        // On the response's events, not when the promise below settles: for HTTP/1.1 it never does (it waits for
        // an "end" event ServerResponse does not emit). An HTTP/2 response finishes when its stream closes: for a
        // call refused while the client was still sending its body, when the client stops sending or the server's
        // requestTimeoutMs resets the stream.
        let reported = false;
        const report = (): void => {
          if (reported) return;
          reported = true;
          if (!options.seen(contextValues)) {
            options.onUnseen({ handler, contextValues, error: wireStatus(answer, lastChunk), startedAt });
          }
        };
        response.once("finish", report);
        response.once("close", report);
        return universalResponseToNodeResponse(answer, response as http.ServerResponse);
      })
      .catch(() => {
        // The client went away or the connection broke while writing: nothing left to tell it.
      });
  };
}
