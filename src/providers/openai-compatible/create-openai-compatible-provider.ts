import { OpenAI } from "openai";
import type { ProviderConfig } from "../../config/config-schema.js";
import { sdkClientOptions } from "../sdk-client-options.js";
import type { Provider } from "../provider.js";
import { OpenAIProvider } from "../openai/openai-provider.js";

/** Sent as the bearer token when the config's key is empty: local servers (Ollama, vLLM) ignore it. */
const placeholderApiKey = "unused";

/**
 * The adapter for a server that speaks the OpenAI protocol at `baseUrl` (vLLM, Ollama, Groq, Together...).
 * Unlike OpenAI and Azure, a stream that ends with a finish_reason but no usage chunk counts as complete with
 * zero usage, because some of these servers ignore `stream_options`. The SDK never retries: the gateway's
 * pipeline does. Connections come from the
 * provider's own pool (connection-pool.ts), through pooledFetch.
 */
export function createOpenAICompatibleProvider(config: ProviderConfig): Provider {
  if (config.baseUrl === undefined) throw new Error(`openai-compatible provider ${config.name} needs baseUrl`);
  const apiKey = config.apiKey.reveal();
  const client = new OpenAI({
    apiKey: apiKey === "" ? placeholderApiKey : apiKey,
    baseURL: config.baseUrl,
    organization: config.organization ?? null,
    project: config.project ?? null,
    ...sdkClientOptions(config),
  });
  return new OpenAIProvider({
    name: config.name,
    type: "openai-compatible",
    client,
    timeoutMs: config.timeoutMs,
    requireStreamUsage: false,
  });
}
