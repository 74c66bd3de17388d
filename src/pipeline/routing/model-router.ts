import type { ProviderType } from "../../config/provider-type.js";
import type { Provider } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";

/** Where a model name may be served, as ListModels shows it. */
export interface RouteTargetInfo {
  provider: string;
  providerType: ProviderType;
  /** The provider's model; for Azure the deployment name. */
  model: string;
}

/** A model name clients ask for: the composed Provider that serves it and its targets in config order. */
export interface Route {
  name: string;
  /** The route-level provider: balancing and fallback over the targets' policy-wrapped providers. */
  provider: Provider;
  targets: readonly RouteTargetInfo[];
}

/**
 * Maps the model names clients ask for to their routes. Unknown names fail with a ProviderError of kind
 * not_found, which reaches the client as NOT_FOUND.
 */
export class ModelRouter {
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(routes: readonly Route[]) {
    this.#routes = new Map(routes.map((route) => [route.name, route]));
  }

  /** The route of a model name; throws not_found for a name that is not configured. */
  resolve(name: string): Route {
    const route = this.#routes.get(name);
    if (!route) {
      throw new ProviderError({
        kind: "not_found",
        provider: "",
        message: `unknown model "${name}"; ListModels lists the models this gateway serves`,
      });
    }
    return route;
  }

  /** Every configured route, in config order. */
  routes(): Iterable<Route> {
    return this.#routes.values();
  }
}
