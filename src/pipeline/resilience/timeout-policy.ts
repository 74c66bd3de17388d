import type { TimeoutsConfig } from "../../config/pipeline-schema.js";
import type { Provider } from "../../providers/provider.js";
import { attemptPolicy } from "../attempt-policy.js";

/**
 * Wraps a provider (one target) in its time limits alone (see attemptPolicy for what each limit bounds); the
 * pipeline's targets get theirs in their one attempt layer, health checks through this. Without any of the
 * three limits, the provider is returned as is.
 */
export function withTimeouts(provider: Provider, config: TimeoutsConfig): Provider {
  return attemptPolicy(provider, { timeouts: config });
}
