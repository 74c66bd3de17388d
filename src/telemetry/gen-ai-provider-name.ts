import type { ProviderType } from "../config/provider-type.js";

const wellKnown: Readonly<Record<Exclude<ProviderType, "openai-compatible">, string>> = {
  openai: "openai",
  azure: "azure.ai.openai",
  anthropic: "anthropic",
};

/**
 * `gen_ai.provider.name` for a configured provider: the well-known semantic-convention value for OpenAI,
 * Azure OpenAI and Anthropic. An OpenAI-compatible server (vLLM, Ollama, Groq...) has no value the gateway
 * can know, so its configured name is used, as the conventions allow for custom providers.
 */
export function genAiProviderName(type: ProviderType, configuredName: string): string {
  return type === "openai-compatible" ? configuredName : wellKnown[type];
}
