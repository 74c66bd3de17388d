import { providerSchema, type ProviderConfig, type ProviderConfigInput } from "../../../src/config/config-schema.js";
import { Secret } from "../../../src/config/secret.js";

/** The key every Anthropic adapter test uses; tests check that it never shows in an error. */
export const testApiKey = "sk-ant-test-0123456789abcdef";

/** A complete Anthropic ProviderConfig pointing at `baseUrl`, with the schema's defaults. */
export function anthropicTestConfig(baseUrl: string, overrides: Partial<ProviderConfigInput> = {}): ProviderConfig {
  return providerSchema.parse({
    name: "anthropic-test",
    type: "anthropic",
    apiKey: new Secret(testApiKey),
    baseUrl,
    timeoutMs: 10_000,
    ...overrides,
  });
}
