import type { ProviderConfig } from "../../../src/config/config-schema.js";
import type { ProviderType } from "../../../src/config/provider-type.js";
import type { Provider } from "../../../src/providers/provider.js";
import type { ProviderErrorKind } from "../../../src/providers/provider-error.js";

/** One member of the OpenAI family, as the shared emulator suites drive it. */
export interface OpenAIFamilyMember {
  type: Extract<ProviderType, "openai" | "azure" | "openai-compatible">;
  create(config: ProviderConfig): Provider;
  /** The config's baseUrl for an emulator listening at `url`. */
  baseUrl(url: string): string;
  /** The emulator API the member's requests reach. */
  api: "openai" | "azure";
  providerRequestId: RegExp;
  /** What the emulator's 503 becomes: OpenAI's says "overloaded", Azure's "temporarily unable". */
  kindOf503: ProviderErrorKind;
}
