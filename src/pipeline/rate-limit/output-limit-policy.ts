import { ProviderError } from "../../providers/provider-error.js";
import type { Provider, StreamPart } from "../../providers/provider.js";
import { type PolicyCall, providerPolicy } from "../provider-policy.js";

/**
 * Refuses, before anything is tokenized or limited, a request whose `max_tokens` is above what every target of
 * its route can return (the largest `maxOutputTokens`): no target could serve it, and it would otherwise hold
 * rate-limit windows while it failed. INVALID_ARGUMENT naming the field. Routes where some target has no
 * `maxOutputTokens` are not checked.
 */
export function withOutputLimit(route: Provider, routeName: string, maxOutputTokens: number | undefined): Provider {
  if (maxOutputTokens === undefined) return route;
  const refusal = (call: PolicyCall): ProviderError | undefined => {
    if (call.operation === "embeddings") return undefined;
    const asked = call.request.maxTokens;
    if (asked === undefined || asked <= maxOutputTokens) return undefined;
    return new ProviderError({
      kind: "invalid_request",
      provider: "",
      message:
        `options.max_tokens: ${String(asked)} is above the ${String(maxOutputTokens)} output tokens model ` +
        `${routeName}'s targets can return (their maxOutputTokens)`,
    });
  };
  // Refused as a Provider fails: a rejected promise, or a stream whose first read fails (never a throw from the
  // call itself), and without a layer around the stream it lets through.
  return providerPolicy(route, {
    unary(call, signal, context, invoke) {
      const refused = refusal(call);
      return refused === undefined ? invoke(signal, context) : Promise.reject(refused);
    },
    stream(call, signal, context, open) {
      const refused = refusal(call);
      return refused === undefined ? open(signal, context) : failingStream(refused);
    },
  });
}

/** A stream whose first read fails with `error`. */
function failingStream(error: ProviderError): AsyncIterable<StreamPart> {
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }) };
}
