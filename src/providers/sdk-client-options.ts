import type { ProviderConfig } from "../config/config-schema.js";
import { connectionPool } from "./connection-pool.js";
import { pooledFetch, type Fetch } from "./pooled-fetch.js";

/** The client options every provider SDK gets the same way. */
export interface SdkClientOptions {
  timeout: number;
  defaultHeaders: Record<string, string>;
  maxRetries: 0;
  fetch: Fetch;
  logLevel: "off";
}

/**
 * The options shared by every SDK client the gateway builds: the configured timeout and extra headers, no
 * SDK retries (the pipeline retries), and the provider's own connection pool (connection-pool.ts) through
 * pooledFetch.
 */
export function sdkClientOptions(config: ProviderConfig): SdkClientOptions {
  return {
    timeout: config.timeoutMs,
    defaultHeaders: Object.fromEntries(Object.entries(config.headers).map(([name, value]) => [name, value.reveal()])),
    maxRetries: 0,
    fetch: pooledFetch(connectionPool(config)),
    // The SDKs log requests (prompts, headers) at OPENAI_LOG / ANTHROPIC_LOG=debug around the gateway's own
    // logger and its redaction: pinned off.
    logLevel: "off",
  };
}
