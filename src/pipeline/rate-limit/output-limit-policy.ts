import { ProviderError } from "../../providers/provider-error.js";
import type { Provider } from "../../providers/provider.js";
import { type PolicyCall, providerPolicy } from "../provider-policy.js";

/**
 * Refuses, before anything is tokenized or limited, a request whose `max_tokens` is above what every target of
 * its route can return (the largest `maxOutputTokens`): no target could serve it, and it would otherwise hold
 * rate-limit windows while it failed. INVALID_ARGUMENT naming the field. Routes where some target has no
 * `maxOutputTokens` are not checked.
 */
export function withOutputLimit(route: Provider, routeName: string, maxOutputTokens: number | undefined): Provider {
  if (maxOutputTokens === undefined) return route;
  const check = (call: PolicyCall): void => {
    if (call.operation === "embeddings") return;
    const asked = call.request.maxTokens;
    if (asked === undefined || asked <= maxOutputTokens) return;
    throw new ProviderError({
      kind: "invalid_request",
      provider: "",
      message:
        `options.max_tokens: ${String(asked)} is above the ${String(maxOutputTokens)} output tokens model ` +
        `${routeName}'s targets can return (their maxOutputTokens)`,
    });
  };
  return providerPolicy(route, {
    unary(call, signal, context, invoke) {
      check(call);
      return invoke(signal, context);
    },
    stream(call, signal, context, open) {
      check(call);
      return open(signal, context);
    },
  });
}
