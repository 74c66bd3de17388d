import type { ConnectError, Interceptor } from "@connectrpc/connect";
import { statusOf } from "./error-codes.js";
import { withTail } from "./stream-tail.js";

/**
 * Maps every error leaving a handler (thrown at once or in the middle of a response stream) to its gRPC
 * status, in one place. When the call's own signal ended it (deadline, shutdown), that reason wins.
 */
export const errorInterceptor: Interceptor = (next) => async (request) => {
  const convert = (error: unknown): ConnectError => statusOf(error, request.signal);
  try {
    const response = await next(request);
    if (!response.stream) return response;
    return { ...response, message: withTail(response.message, { fail: convert }) };
  } catch (error) {
    throw convert(error);
  }
};
