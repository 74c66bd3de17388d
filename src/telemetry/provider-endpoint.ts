import type { ProviderType } from "../config/provider-type.js";

/** The host a provider's requests go to, for `server.address` / `server.port`. */
export interface ProviderEndpoint {
  address: string;
  port: number;
}

const defaultHosts: Partial<Record<ProviderType, string>> = {
  openai: "api.openai.com",
  anthropic: "api.anthropic.com",
};

/**
 * The endpoint of a configured provider: its `baseUrl`'s host and port, or the vendor's public API host when
 * none is configured. Undefined when neither is known.
 */
export function providerEndpoint(provider: {
  type: ProviderType;
  baseUrl?: string | undefined;
}): ProviderEndpoint | undefined {
  if (provider.baseUrl === undefined) {
    const host = defaultHosts[provider.type];
    return host === undefined ? undefined : { address: host, port: 443 };
  }
  try {
    const url = new URL(provider.baseUrl);
    const port = url.port === "" ? (url.protocol === "http:" ? 80 : 443) : Number(url.port);
    return { address: url.hostname.replace(/^\[|\]$/g, ""), port };
  } catch {
    return undefined;
  }
}
