import { z } from "zod";
import { secretText } from "./secret.js";

const positiveInt = z.number().int().positive();

/** Requests and tokens per minute; an absent limit is not enforced. */
export const rateLimitSchema = z.strictObject({
  requestsPerMinute: positiveInt.optional(),
  tokensPerMinute: positiveInt.optional(),
});

/**
 * Time limits of one call to a provider. `connectMs` bounds the TCP/TLS connect, `firstTokenMs` the wait for
 * the first stream chunk (or the headers of a unary answer: the provider accepted it), `idleMs` the gap between stream chunks,
 * `totalMs` the whole call. A provider that passes one is abandoned (its request aborted) with a timeout.
 */
export const timeoutsSchema = z.strictObject({
  connectMs: positiveInt.default(10_000),
  firstTokenMs: positiveInt.optional(),
  idleMs: positiveInt.optional(),
  totalMs: positiveInt.optional(),
});

/**
 * When a target's circuit opens: `failureThreshold` consecutive failures, or an error rate of at least
 * `errorRate` over the last `windowMs` once `minRequests` calls were seen. It stays open `openMs`, then lets
 * `halfOpenProbes` calls through; their success closes it again.
 */
export const circuitBreakerSchema = z.strictObject({
  failureThreshold: positiveInt.default(5),
  errorRate: z.number().gt(0).max(1).default(0.5),
  windowMs: positiveInt.default(60_000),
  minRequests: positiveInt.default(20),
  openMs: positiveInt.default(30_000),
  halfOpenProbes: positiveInt.default(1),
});

/** An optional active health check: a cheap call to `model` every `intervalMs`. */
export const healthCheckSchema = z.strictObject({
  model: z.string().min(1),
  intervalMs: positiveInt.default(30_000),
  timeoutMs: positiveInt.default(5_000),
});

/** Errors after which the next target of a model is tried. */
export const fallbackTriggers = ["retryable", "exhausted", "circuit_open", "context_length", "content_filter"] as const;

/** How a model name's targets are chosen and when the next one is tried. */
export const routingSchema = z.strictObject({
  /** ordered: first target first; round-robin, weighted, least-latency (power of two choices over an EWMA). */
  strategy: z.enum(["ordered", "round-robin", "weighted", "least-latency"]).default("ordered"),
  fallbackOn: z.array(z.enum(fallbackTriggers)).default([...fallbackTriggers]),
  /**
   * A stream failing after its first chunk reached the client: `continue` on the next target with the
   * partial answer as assistant prefill, or `error` (UNAVAILABLE naming how much was delivered).
   */
  midStream: z.enum(["continue", "error"]).default("error"),
});

/** Retries of retryable errors within one target. */
export const retrySchema = z.strictObject({
  /** Attempts per target, the first included. */
  maxAttempts: positiveInt.default(3),
  baseDelayMs: positiveInt.default(250),
  maxDelayMs: positiveInt.default(8_000),
  /** A provider's retry-after longer than this is not waited for: the error goes to fallback instead. */
  maxRetryAfterMs: positiveInt.default(30_000),
  /** gRPC-style retry throttling: retries may add at most `ratio` extra load, plus `minPerSecond`. */
  budget: z
    .strictObject({ ratio: z.number().min(0).max(1).default(0.1), minPerSecond: z.number().min(0).default(1) })
    .prefault({}),
});

/** Rate limiting: where counters live, the wait queue, and per-client limits. */
export const rateLimitingSchema = z.strictObject({
  /** memory: per process; redis: shared by every replica. */
  store: z.enum(["memory", "redis"]).default("memory"),
  /** A Secret (it may hold a password); written as a plain string or a reference. */
  redisUrl: secretText.optional(),
  /**
   * While Redis cannot be reached (down, or slower than redisTimeoutMs): `open` keeps serving with per-process
   * counters (each replica enforces the limits alone), `closed` refuses calls (UNAVAILABLE) until it is back.
   */
  redisFailMode: z.enum(["open", "closed"]).default("open"),
  /** A Redis command slower than this counts as Redis unreachable for that call. */
  redisTimeoutMs: positiveInt.default(50),
  keyPrefix: z.string().default("llm-gateway"),
  queue: z
    .strictObject({ maxDepth: z.number().int().nonnegative().default(256), maxWaitMs: positiveInt.default(30_000) })
    .prefault({}),
  /** Output tokens reserved for a request that sets no max_tokens. */
  defaultMaxTokens: positiveInt.default(1024),
  /** The request header naming the caller, until API keys identify clients. */
  clientHeader: z.string().default("x-client-id"),
  /** Limits of every client (by identity), unless `clientOverrides` has its own. */
  perClient: rateLimitSchema.optional(),
  clientOverrides: z.record(z.string(), rateLimitSchema).default({}),
});

/** The pipeline's global settings. */
export const pipelineSchema = z
  .strictObject({
    retry: retrySchema.prefault({}),
    rateLimiting: rateLimitingSchema.prefault({}),
  })
  .refine((p) => p.rateLimiting.store !== "redis" || p.rateLimiting.redisUrl !== undefined, {
    message: "store redis needs redisUrl",
    path: ["rateLimiting", "redisUrl"],
  });

export type TimeoutsConfig = z.output<typeof timeoutsSchema>;
export type CircuitBreakerConfig = z.output<typeof circuitBreakerSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type RoutingConfig = z.output<typeof routingSchema>;
export type FallbackTrigger = (typeof fallbackTriggers)[number];
export type RetryConfig = z.output<typeof retrySchema>;
export type RateLimitingConfig = z.output<typeof rateLimitingSchema>;
export type RateLimitConfig = z.output<typeof rateLimitSchema>;
export type PipelineConfig = z.output<typeof pipelineSchema>;
