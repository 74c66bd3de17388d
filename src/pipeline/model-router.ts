import type { ModelConfig } from "../config/config-schema.js";
import type { Provider } from "../providers/provider.js";
import { ProviderError } from "../providers/provider-error.js";

/** One place a model name can be served: a (policy-wrapped) provider and that provider's model name. */
export interface RouteTarget {
  provider: Provider;
  /** The provider's model; for Azure the deployment name. */
  model: string;
}

/** A model name clients ask for and its targets in routing order. */
export interface Route {
  name: string;
  targets: readonly RouteTarget[];
}

/**
 * Maps the model names clients ask for to their ordered targets, as configured. Unknown names fail with a
 * ProviderError of kind not_found, which reaches the client as NOT_FOUND.
 */
export class ModelRouter {
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(models: readonly ModelConfig[], providers: ReadonlyMap<string, Provider>) {
    this.#routes = new Map(
      models.map((model) => [
        model.name,
        {
          name: model.name,
          targets: model.targets.map((target) => {
            const provider = providers.get(target.provider);
            if (!provider) throw new Error(`model ${model.name}: unknown provider ${target.provider}`);
            return { provider, model: target.model };
          }),
        },
      ]),
    );
  }

  /** The route of a model name; throws not_found for a name that is not configured. */
  resolve(name: string): Route {
    const route = this.#routes.get(name);
    if (!route) {
      throw new ProviderError({ kind: "not_found", provider: "", message: `unknown model "${name}"; ListModels lists the models this gateway serves` });
    }
    return route;
  }

  /** Every configured route, in config order. */
  routes(): Iterable<Route> {
    return this.#routes.values();
  }
}
