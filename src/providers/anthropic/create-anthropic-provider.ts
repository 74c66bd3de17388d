import Anthropic from "@anthropic-ai/sdk";
import type { ProviderConfig } from "../../config/config-schema.js";
import { sdkClientOptions } from "../sdk-client-options.js";
import type { Provider } from "../provider.js";
import { AnthropicProvider } from "./anthropic-provider.js";

/**
 * Builds the Anthropic adapter for one configured provider. The SDK's own retries are off (`maxRetries: 0`)
 * because the gateway's pipeline decides retries and fallback; the configured timeout, base URL and extra
 * headers go to the SDK client, and the key is revealed only here. Connections come from the provider's own
 * pool (connection-pool.ts), through pooledFetch.
 */
export function createAnthropicProvider(config: ProviderConfig): Provider {
  const client = new Anthropic({
    apiKey: config.apiKey.reveal(),
    baseURL: config.baseUrl,
    ...sdkClientOptions(config),
  });
  return new AnthropicProvider(client, { name: config.name, defaultMaxTokens: config.defaultMaxTokens });
}
