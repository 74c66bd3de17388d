import type { CallContext } from "./call-context.js";

/** The `fetch` init property that carries a call's `onResponseHeaders` from the adapter to pooledFetch. */
export const onResponseHeadersKey = "llmGatewayOnResponseHeaders";

/**
 * The per-request SDK options that tell the gateway's `fetch` (src/providers/pooled-fetch.ts) whom to call when
 * the upstream answer's headers arrive: both SDKs pass `fetchOptions` through to `fetch` as they are. Empty
 * when nobody listens (no context, or a policy that does not need it).
 */
export function responseHeadersWatch(context: CallContext | undefined): { fetchOptions?: Record<never, never> } {
  const listener = context?.onResponseHeaders;
  // Typed as an empty init: the property is the gateway's own, unknown to the SDKs' RequestInit types.
  return listener === undefined ? {} : { fetchOptions: { [onResponseHeadersKey]: listener } };
}

/** Calls the listener a fetch `init` carries, if any: the provider has accepted the call. */
export function responseHeadersArrived(init: RequestInit | undefined): void {
  const listener: unknown = init === undefined ? undefined : Reflect.get(init, onResponseHeadersKey);
  if (typeof listener === "function") listener();
}
