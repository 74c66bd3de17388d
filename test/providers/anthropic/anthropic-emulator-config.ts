import type { ProviderConfig, ProviderConfigInput } from "../../../src/config/config-schema.js";
import { anthropicTestConfig, testApiKey } from "./anthropic-test-config.js";

/**
 * A ProviderConfig for the emulator. Workaround: @anthropic-ai/sdk 1.14 sends the API key as
 * `Authorization: Bearer`, while the emulator's Anthropic route reads only `x-api-key`, so the key is also
 * sent as an extra `x-api-key` header here. Remove it once the emulator accepts Bearer keys.
 */
export function anthropicEmulatorConfig(url: string, overrides: Partial<ProviderConfigInput> = {}): ProviderConfig {
  const apiKey = overrides.apiKey?.reveal() ?? testApiKey;
  return anthropicTestConfig(url, { ...overrides, headers: { "x-api-key": apiKey, ...overrides.headers } });
}
