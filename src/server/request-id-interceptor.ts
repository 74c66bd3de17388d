import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { toConnectError } from "./error-codes.js";
import { newRequestId } from "./request-id.js";

/** The response header (or, on a failed call, error metadata) carrying the call's request id. */
const requestIdHeader = "x-request-id";

/**
 * The id of the call, set by requestIdInterceptor: the LLMService handlers use it as the request id of the
 * usage ledger, the request log line and the spans. Undefined when the interceptor is not installed.
 */
export const requestIdKey = createContextKey<string | undefined>(undefined, { description: "the call's request id" });

/**
 * Gives every call one request id (a UUIDv7, see request-id.ts), hands it to the handler in `requestIdKey`
 * and returns it in the `x-request-id` response header, whatever the service (LLMService, AdminService,
 * grpc.health.v1) and however the call ends: with an answer, or refused (unauthenticated, invalid, any
 * error), where it goes in the error's metadata (response headers for Connect, trailers for gRPC). A stream
 * that fails after it started already sent the header. Place it first (outermost) so that every other
 * interceptor's refusals pass through it. Calls connect-es refuses before interceptors run (a request over
 * `server.maxRequestBytes`, a body that does not decode) get none.
 */
export const requestIdInterceptor: Interceptor = (next) => async (request) => {
  const id = newRequestId();
  request.contextValues.set(requestIdKey, id);
  try {
    const response = await next(request);
    response.header.set(requestIdHeader, id);
    return response;
  } catch (error) {
    const status = toConnectError(error);
    status.metadata.set(requestIdHeader, id);
    throw status;
  }
};
