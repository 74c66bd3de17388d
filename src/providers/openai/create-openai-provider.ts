import { OpenAI } from "openai";
import type { ProviderConfig } from "../../config/config-schema.js";
import { sdkClientOptions } from "../sdk-client-options.js";
import type { Provider } from "../provider.js";
import { OpenAIProvider } from "./openai-provider.js";

const openAIBaseUrl = "https://api.openai.com/v1";

/**
 * The adapter for api.openai.com (or `baseUrl`, for a proxy in front of it). Every client option is set from
 * the config, never left to the SDK's environment defaults (OPENAI_BASE_URL, OPENAI_ORG_ID...), and the SDK
 * never retries: the gateway's pipeline does. Connections come from the
 * provider's own pool (connection-pool.ts), through pooledFetch.
 */
export function createOpenAIProvider(config: ProviderConfig): Provider {
  const client = new OpenAI({
    apiKey: config.apiKey.reveal(),
    baseURL: config.baseUrl ?? openAIBaseUrl,
    organization: config.organization ?? null,
    project: config.project ?? null,
    ...sdkClientOptions(config),
  });
  return new OpenAIProvider({
    name: config.name,
    type: "openai",
    client,
    timeoutMs: config.timeoutMs,
    requireStreamUsage: true,
  });
}
