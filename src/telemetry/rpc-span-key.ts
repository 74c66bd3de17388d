import { createContextKey } from "@connectrpc/connect";
import { INVALID_SPAN_CONTEXT, trace, type Span } from "@opentelemetry/api";

const noSpan = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The RPC's server span, as the telemetry interceptor puts it in the call's context values: handlers read it
 * with `context.values.get(rpcSpanKey)` and pass it to `Telemetry.recordRequest`. When tracing is off it is a
 * shared non-recording span, so callers never check for absence.
 */
export const rpcSpanKey = createContextKey<Span>(noSpan, { description: "the RPC's OpenTelemetry server span" });
