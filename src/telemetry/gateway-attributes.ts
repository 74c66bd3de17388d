/**
 * The gateway's own span, metric and log attribute names (`llm_gateway.*`), for what the semantic
 * conventions have no name for: routing, tenants, cost, retries, queues.
 */
export const gatewayAttributes = {
  /** The configured provider name (`azure-east`), finer than `gen_ai.provider.name` (`azure.ai.openai`). */
  provider: "llm_gateway.provider",
  /** The model name the client asked for, before routing. */
  model: "llm_gateway.model",
  requestId: "llm_gateway.request_id",
  tenant: "llm_gateway.tenant",
  /** The client key's id (never its secret). */
  keyId: "llm_gateway.key_id",
  alertType: "llm_gateway.alert.type",
  clientId: "llm_gateway.client_id",
  stream: "llm_gateway.stream",
  servedProvider: "llm_gateway.served.provider",
  servedProviderType: "llm_gateway.served.provider_type",
  servedModel: "llm_gateway.served.model",
  attempts: "llm_gateway.attempts",
  /** 1-based position of an attempt among the request's attempts. */
  attempt: "llm_gateway.attempt",
  errorKind: "llm_gateway.error.kind",
  costMicros: "llm_gateway.cost.micro_usd",
  costUnknown: "llm_gateway.cost.unknown",
  cacheHit: "llm_gateway.cache_hit",
  cachedInputTokens: "llm_gateway.usage.cached_input_tokens",
  chunks: "llm_gateway.stream.chunks",
  addedLatencyMs: "llm_gateway.added_latency_ms",
  limiter: "llm_gateway.limiter",
  queueWaitMs: "llm_gateway.queue.wait_ms",
  reason: "llm_gateway.reason",
  retryDelayMs: "llm_gateway.retry.delay_ms",
  fromProvider: "llm_gateway.from.provider",
  fromModel: "llm_gateway.from.model",
  toProvider: "llm_gateway.to.provider",
  toModel: "llm_gateway.to.model",
  deliveredChars: "llm_gateway.delivered_chars",
} as const;
