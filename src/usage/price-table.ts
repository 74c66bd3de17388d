import type { ModelPrice } from "../config/config-schema.js";
import type { ProviderType } from "../config/provider-type.js";
import type { TokenUsage } from "../providers/provider.js";
import shipped from "./prices.json" with { type: "json" };

/** The cost of one request. */
export interface Cost {
  /** Micro-USD, rounded half up from an exact integer sum of pico-USD. */
  micros: bigint;
  /** Exact cost in pico-USD (1e-12 USD), for ledgers that add many small requests without rounding each. */
  picos: bigint;
  /** False when no price is known for the model: the cost is 0, not an estimate. */
  known: boolean;
}

/** A price converted to integer pico-USD per token (USD per million tokens × 10^6). */
interface TokenPrice {
  input: bigint;
  output: bigint;
  cachedInput: bigint;
  cacheWrite: bigint;
}

/** Which shipped price list a provider type bills by. */
const familyOf: Record<ProviderType, keyof typeof shipped.providers | undefined> = {
  openai: "openai",
  azure: "openai",
  anthropic: "anthropic",
  "openai-compatible": undefined,
};

const unknownCost: Cost = { micros: 0n, picos: 0n, known: false };

/**
 * Prices per model, from the shipped price list (src/usage/prices.json, dated) overlaid with the config's
 * `pricing.models`. Dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-20250514`) take the price of
 * their model; any other name without a price of its own has none (`o3-pro` is not `o3`). All arithmetic is integer: money is never a float that gets added up.
 */
export class PriceTable {
  /** The date of the shipped price list. */
  static readonly shippedAsOf: string = shipped.asOf;
  readonly #overrides: Map<string, TokenPrice>;
  readonly #families: Map<string, Map<string, TokenPrice>>;
  readonly #cache = new Map<string, TokenPrice | null>();

  constructor(overrides: Readonly<Record<string, ModelPrice>> = {}) {
    this.#overrides = new Map(Object.entries(overrides).map(([model, price]) => [model, toTokenPrice(price)]));
    this.#families = new Map(
      Object.entries(shipped.providers).map(([family, models]) => [
        family,
        new Map(Object.entries(models).map(([model, price]) => [model, toTokenPrice(price)])),
      ]),
    );
  }

  /**
   * The cost of `usage` on `model` (the answering model first, then the requested one, are looked up by the
   * caller passing them in order). Cached and cache-write tokens are part of `promptTokens` and billed at
   * their own prices when the model has them.
   */
  cost(providerType: ProviderType, models: readonly string[], usage: TokenUsage): Cost {
    const price = this.#find(providerType, models);
    if (!price) return unknownCost;
    const cached = BigInt(usage.cachedPromptTokens);
    const written = BigInt(usage.cacheWriteTokens);
    const fresh = BigInt(Math.max(0, usage.promptTokens - usage.cachedPromptTokens - usage.cacheWriteTokens));
    const picos =
      fresh * price.input +
      cached * price.cachedInput +
      written * price.cacheWrite +
      BigInt(usage.completionTokens) * price.output;
    return { picos, micros: (picos + 500_000n) / 1_000_000n, known: true };
  }

  #find(providerType: ProviderType, models: readonly string[]): TokenPrice | undefined {
    for (const model of models) {
      const key = `${providerType}\u0000${model}`;
      let price = this.#cache.get(key);
      if (price === undefined) {
        price = this.#lookup(providerType, model) ?? null;
        this.#cache.set(key, price);
      }
      if (price) return price;
    }
    return undefined;
  }

  #lookup(providerType: ProviderType, model: string): TokenPrice | undefined {
    const override = snapshotPrice(this.#overrides, model);
    if (override) return override;
    const family = familyOf[providerType];
    const list = family === undefined ? undefined : this.#families.get(family);
    return list ? snapshotPrice(list, model) : undefined;
  }
}

/** A dated snapshot's suffix: `-2024-08-06`, `-20250514`, `-0613`, or `-latest`. */
const snapshotSuffix = /-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$/;

/**
 * The price of `model` itself or of the model it is a dated snapshot of (`gpt-4o-2024-08-06` is `gpt-4o`,
 * `claude-sonnet-4-20250514` is `claude-sonnet-4`). Any other suffix is another model (`o3-pro` is not
 * `o3`, `gpt-4o-mini` is not `gpt-4o`): without a price of its own it has none.
 */
function snapshotPrice(prices: ReadonlyMap<string, TokenPrice>, model: string): TokenPrice | undefined {
  const exact = prices.get(model);
  if (exact) return exact;
  const base = model.replace(snapshotSuffix, "");
  return base === model ? undefined : prices.get(base);
}

function toTokenPrice(price: {
  input: number;
  output?: number | null;
  cachedInput?: number;
  cacheWrite?: number;
}): TokenPrice {
  const input = picosPerToken(price.input);
  return {
    input,
    output: picosPerToken(price.output ?? 0),
    cachedInput: price.cachedInput === undefined ? input : picosPerToken(price.cachedInput),
    cacheWrite: price.cacheWrite === undefined ? input : picosPerToken(price.cacheWrite),
  };
}

/** USD per million tokens is micro-USD per token; × 10^6 gives integer pico-USD per token. */
function picosPerToken(usdPerMillion: number): bigint {
  return BigInt(Math.round(usdPerMillion * 1_000_000));
}
