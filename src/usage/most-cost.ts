import type { ProviderType } from "../config/provider-type.js";
import type { PriceTable } from "./price-table.js";

/**
 * The most a call of `promptTokens` in and `outputTokens` out can cost on a model, in pico-USD: every prompt
 * token at the higher of the input and the cache-write price (a prompt written to the provider's cache costs
 * more than a plain one), every output token at the output price. 0 when the model has no known price.
 */
export function mostCostPicos(
  prices: PriceTable,
  providerType: ProviderType,
  model: string,
  promptTokens: number,
  outputTokens: number,
): bigint {
  const totalTokens = promptTokens + outputTokens;
  const plain = prices.cost(providerType, [model], {
    promptTokens,
    completionTokens: outputTokens,
    totalTokens,
    cachedPromptTokens: 0,
    cacheWriteTokens: 0,
  });
  const written = prices.cost(providerType, [model], {
    promptTokens,
    completionTokens: outputTokens,
    totalTokens,
    cachedPromptTokens: 0,
    cacheWriteTokens: promptTokens,
  });
  // biome-ignore lint/complexity/useMathMinMax: bigint, which Math.max does not take
  return plain.picos > written.picos ? plain.picos : written.picos;
}
