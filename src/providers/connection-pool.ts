import { Agent } from "undici";
import type { ProviderConfig } from "../config/config-schema.js";

/**
 * The SDK fetch options giving a provider its own undici connection pool: TCP connect limited to
 * `timeouts.connectMs`, at most 256 connections per origin, idle ones kept 10 s (under common load-balancer
 * idle timeouts), and undici's own 300 s header and body limits raised to the provider's `timeoutMs`.
 * Node's built-in fetch accepts an undici 7 Agent; only the two undici versions' type declarations differ,
 * hence the cast.
 */
export function connectionPool(config: ProviderConfig): { dispatcher: RequestInit["dispatcher"] } {
  const agent = new Agent({
    connect: { timeout: config.timeouts.connectMs },
    connections: 256,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
  });
  return { dispatcher: agent as unknown as RequestInit["dispatcher"] };
}
