/** The model names the benchmark calls: at the gateway (`name`) and upstream (`upstream`, for the direct call). */
export const benchModels = {
  chat: { name: "bench-chat", upstream: "gpt-4o-mini" },
  embed: { name: "bench-embed", upstream: "text-embedding-3-small" },
  /** Streams from a slow upstream (the emulator delays each chunk of this model), for the open-streams rows. */
  slow: { name: "bench-slow", upstream: "gpt-4o-mini-slow" },
} as const;

/** The environment variable holding the emulator key the gateway config refers to. */
export const benchKeyVariable = "BENCH_UPSTREAM_KEY";
/** The key the benchmark's emulator accepts. */
export const benchKey = "sk-bench-0123456789abcdef";
/** The caller identity header every benchmark request sends (per-client limits apply to it). */
export const benchClientHeader = "x-client-id";

/** Limits far above anything the benchmark reaches: configured so their cost is measured, never binding. */
const generousLimit = { requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 };

/**
 * The gateway config of the benchmark: the full pipeline on, as a production config would have it. Two
 * providers (both the emulator, each with its own connection pool) serve every model name as two targets
 * under least-latency routing with fallback; retries with their budget, a circuit breaker and timeouts per
 * target; provider and per-client rate limits that never bind; usage and cost from the price table; the
 * Prometheus metrics endpoint on; one request log line per request at `info` (to stdout, which the benchmark
 * discards). Tracing is switched on by the OTEL_* environment of the tracing row, not here.
 */
export function benchGatewayConfig(emulatorUrl: string, logLevel: string): Record<string, unknown> {
  const provider = (name: string): Record<string, unknown> => ({
    name,
    type: "openai",
    apiKey: `\${${benchKeyVariable}}`,
    baseUrl: `${emulatorUrl}/v1`,
    timeoutMs: 600_000,
    timeouts: { connectMs: 5_000, firstTokenMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
    circuitBreaker: {
      failureThreshold: 5,
      errorRate: 0.5,
      windowMs: 60_000,
      minRequests: 20,
      openMs: 30_000,
      halfOpenProbes: 1,
    },
    rateLimit: generousLimit,
  });
  const routing = {
    strategy: "least-latency",
    fallbackOn: ["retryable", "exhausted", "circuit_open"],
    midStream: "error",
  };
  const model = (names: { name: string; upstream: string }): Record<string, unknown> => ({
    name: names.name,
    routing,
    targets: [
      { provider: "emu-a", model: names.upstream },
      { provider: "emu-b", model: names.upstream },
    ],
  });
  return {
    server: {
      host: "127.0.0.1",
      port: 0,
      maxRequestBytes: 4 * 1024 * 1024,
      shutdownGraceMs: 1_000,
      // Above the largest open-stream row (5,000): at the default cap (4,096) that row held 4,096 streams and
      // refused the rest with RESOURCE_EXHAUSTED.
      maxInFlightCalls: 10_000,
    },
    logging: { level: logLevel },
    telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 } },
    pipeline: {
      retry: {
        maxAttempts: 3,
        baseDelayMs: 250,
        maxDelayMs: 8_000,
        maxRetryAfterMs: 30_000,
        budget: { ratio: 0.1, minPerSecond: 1 },
      },
      rateLimiting: {
        store: "memory",
        queue: { maxDepth: 256, maxWaitMs: 30_000 },
        defaultMaxTokens: 1024,
        clientHeader: benchClientHeader,
        perClient: generousLimit,
      },
    },
    providers: [provider("emu-a"), provider("emu-b")],
    models: [model(benchModels.chat), model(benchModels.embed), model(benchModels.slow)],
  };
}
