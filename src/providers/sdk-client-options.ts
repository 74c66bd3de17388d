import type { ProviderConfig } from "../config/config-schema.js";
import { connectionPool } from "./connection-pool.js";
import { pooledFetch, type Fetch } from "./pooled-fetch.js";

/** The client options every provider SDK gets the same way. */
export interface SdkClientOptions {
  timeout: number;
  defaultHeaders: Record<string, string>;
  maxRetries: 0;
  fetch: Fetch;
}

/**
 * The options shared by every SDK client the gateway builds: the configured timeout and extra headers, no
 * SDK retries (the pipeline retries), and the provider's own connection pool (connection-pool.ts) through
 * pooledFetch.
 */
export function sdkClientOptions(config: ProviderConfig): SdkClientOptions {
  return { timeout: config.timeoutMs, defaultHeaders: config.headers, maxRetries: 0, fetch: pooledFetch(connectionPool(config)) };
}
