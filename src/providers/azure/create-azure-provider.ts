import { AzureOpenAI } from "openai";
import type { ProviderConfig } from "../../config/config-schema.js";
import { sdkClientOptions } from "../sdk-client-options.js";
import type { Provider } from "../provider.js";
import { OpenAIProvider } from "../openai/openai-provider.js";

/** The Azure OpenAI GA api-version used when the config names none. */
const defaultAzureApiVersion = "2024-10-21";

/**
 * The adapter for an Azure OpenAI resource. `baseUrl` is the resource endpoint
 * (`https://NAME.openai.azure.com`); a request's model is the deployment name, which the SDK puts in the path
 * (`/openai/deployments/{model}/...`) next to the `api-version` query and the `api-key` header. The client
 * gets `baseURL` = endpoint + `/openai` rather than `endpoint`, so an OPENAI_BASE_URL in the environment can
 * neither redirect nor break it. The SDK never retries: the gateway's pipeline does. Connections come from the
 * provider's own pool (connection-pool.ts), through pooledFetch.
 */
export function createAzureProvider(config: ProviderConfig): Provider {
  if (config.baseUrl === undefined) {
    throw new Error(`azure provider ${config.name} needs baseUrl (the resource endpoint)`);
  }
  const client = new AzureOpenAI({
    apiKey: config.apiKey.reveal(),
    baseURL: `${config.baseUrl.replace(/\/+$/, "")}/openai`,
    apiVersion: config.apiVersion ?? defaultAzureApiVersion,
    organization: null,
    project: null,
    ...sdkClientOptions(config),
  });
  return new OpenAIProvider({
    name: config.name,
    type: "azure",
    client,
    timeoutMs: config.timeoutMs,
    requireStreamUsage: true,
  });
}
