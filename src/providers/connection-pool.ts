import { Agent } from "undici";
import type { ProviderConfig } from "../config/config-schema.js";

/**
 * A provider's own undici connection pool: TCP connect limited to `timeouts.connectMs`, idle connections
 * kept 10 s (under common load-balancer idle timeouts), and undici's own 300 s header and body limits raised
 * to the provider's `timeoutMs`. The SDKs reach it through pooledFetch.
 *
 * Up to 10,000 connections per origin: a streamed generation holds its HTTP/1.1 connection for its whole
 * length (tens of seconds), so the pool must allow as many connections as the gateway has concurrent streams
 * to the provider. With the former cap of 256, the 257th concurrent stream waited inside the pool, without a
 * first token, until another stream ended. Admission is the rate limiter's job, not the pool's.
 */
export function connectionPool(config: ProviderConfig): Agent {
  return new Agent({
    connect: { timeout: config.timeouts.connectMs },
    connections: 10_000,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
  });
}
