import { Code, ConnectError, type Interceptor, type StreamRequest, type UnaryRequest } from "@connectrpc/connect";
import {
  ROOT_CONTEXT,
  SpanKind,
  diag,
  SpanStatusCode,
  isSpanContextValid,
  type Span,
  type TextMapGetter,
  type Tracer,
  type UpDownCounter,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
} from "@opentelemetry/semantic-conventions";
import { gatewayNow } from "./gateway-clock.js";
import { grpcStatus } from "./grpc-status.js";
import { withTail } from "../server/stream-tail.js";
import { rpcSpanKey } from "./rpc-span-key.js";

/** The response header carrying the request's trace id (32 hex digits), so a caller can find its trace. */
export const traceIdHeader = "x-trace-id";
/** The W3C Trace Context Level 2 response header: `00-{trace id}-{span id}-{flags}` of the server span. */
export const traceResponseHeader = "traceresponse";

/** Health checks (load balancers, Docker, Kubernetes probes) would flood traces: they get no span. */
const healthService = "grpc.health.v1.Health";
const propagator = new W3CTraceContextPropagator();
const headerGetter: TextMapGetter<Headers> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  keys: (carrier) => [...carrier.keys()],
};

/**
 * A connect server interceptor that (when a tracer is given) opens one SERVER span per RPC, named after the
 * method (`llm.v1.LLMService/Chat`), continuing the caller's W3C `traceparent`; exposes it under
 * `rpcSpanKey`; returns the trace id in `x-trace-id` and `traceresponse` headers (error metadata for failed
 * calls); and ends it with the gRPC status when the response (or the last stream message) is done. With an
 * in-flight counter it also counts running RPCs. With neither it is a pass-through that costs nothing.
 * `grpc.health.v1.Health` calls are passed through untouched.
 * Place it first (outermost) in the interceptor list, so it sees errors already mapped to gRPC codes.
 */
export function rpcInterceptor(tracer: Tracer | undefined, inFlight: UpDownCounter | undefined): Interceptor {
  if (tracer === undefined && inFlight === undefined) return (next) => next;
  return (next) => async (request) => {
    if (request.service.typeName === healthService) return next(request);
    const method = `${request.service.typeName}/${request.method.name}`;
    const counted = inFlight === undefined ? undefined : { [ATTR_RPC_METHOD]: method };
    if (counted !== undefined) inFlight?.add(1, counted);
    const span = tracer === undefined ? undefined : startRpcSpan(tracer, request, method);
    let finished = false;
    const finish = (error: unknown): void => {
      if (finished) return;
      finished = true;
      try {
        if (counted !== undefined) inFlight?.add(-1, counted);
        if (span !== undefined) endRpcSpan(span, outcome(error, request.signal));
      } catch (failure) {
        diag.error(`ending the RPC span failed: ${failure instanceof Error ? failure.message : String(failure)}`);
      }
    };
    try {
      const response = await next(request);
      if (span !== undefined) setTraceHeaders(response.header, span);
      if (!response.stream) {
        finish(undefined);
        return response;
      }
      return { ...response, message: withTail(response.message, { end: finish }) };
    } catch (error) {
      if (span !== undefined && error instanceof ConnectError) setTraceHeaders(error.metadata, span);
      finish(error);
      throw error;
    }
  };
}

function startRpcSpan(tracer: Tracer, request: UnaryRequest | StreamRequest, method: string): Span {
  const parent = propagator.extract(ROOT_CONTEXT, request.header, headerGetter);
  const contentType = request.header.get("content-type") ?? "";
  const span = tracer.startSpan(
    method,
    {
      kind: SpanKind.SERVER,
      // On the gateway's clock, as the spans under it: the SDK would anchor a root span on Date.now().
      startTime: gatewayNow(),
      attributes: {
        [ATTR_RPC_SYSTEM_NAME]: contentType.startsWith("application/grpc") ? "grpc" : "connectrpc",
        [ATTR_RPC_METHOD]: method,
      },
    },
    parent,
  );
  request.contextValues.set(rpcSpanKey, span);
  return span;
}

/** The gRPC code a call ended with: OK, the error's code, or the reason the call's signal gave. */
function outcome(error: unknown, signal: AbortSignal): Code | 0 {
  if (error !== undefined) return ConnectError.from(error).code;
  if (!signal.aborted) return 0;
  return signal.reason instanceof ConnectError ? signal.reason.code : Code.Canceled;
}

function endRpcSpan(span: Span, code: Code | 0): void {
  const name = grpcStatus.name(code);
  span.setAttribute(ATTR_RPC_STATUS_CODE, name);
  if (grpcStatus.isServerError(code)) {
    span.setAttribute(ATTR_ERROR_TYPE, name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: name });
  }
  span.end(gatewayNow());
}

function setTraceHeaders(headers: Headers, span: Span): void {
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return;
  headers.set(traceIdHeader, context.traceId);
  headers.set(traceResponseHeader, `00-${context.traceId}-${context.spanId}-0${(context.traceFlags & 1).toString(16)}`);
}
