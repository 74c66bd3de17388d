/** The provider wire protocols the gateway speaks. */
export const providerTypes = ["openai", "azure", "anthropic", "openai-compatible"] as const;

/** One of the provider wire protocols the gateway speaks. */
export type ProviderType = (typeof providerTypes)[number];
