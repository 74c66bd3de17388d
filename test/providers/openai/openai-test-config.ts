import { providerSchema, type ProviderConfig, type ProviderConfigInput } from "../../../src/config/config-schema.js";
import type { ProviderType } from "../../../src/config/provider-type.js";
import { Secret } from "../../../src/config/secret.js";

/** The key the OpenAI-family tests use; tests check that it never shows in an error. */
export const testApiKey = "sk-test-0123456789abcdefOPENAI";

/** A complete ProviderConfig of `type` pointing at `baseUrl`, with the schema's defaults filled in. */
export function openAITestConfig(
  type: ProviderType,
  baseUrl: string,
  overrides: Partial<ProviderConfigInput> = {},
): ProviderConfig {
  return providerSchema.parse({
    name: `${type}-test`,
    type,
    apiKey: new Secret(testApiKey),
    baseUrl,
    timeoutMs: 10_000,
    ...overrides,
  });
}
