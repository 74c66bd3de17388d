import { z } from "zod";
import { Secret } from "./secret.js";

const positiveInt = z.number().int().positive();

/**
 * `auth`: with it, every LLMService call needs a client key (`authorization: Bearer <key>`) and the admin API
 * takes `adminKey`; without it the gateway is open to whoever reaches its port (it says so at start-up).
 */
export const authSchema = z.strictObject({
  /** Resolved by the loader from `${ENV_VAR}` or `file:PATH`, like provider keys. */
  adminKey: z.instanceof(Secret, { message: "must be ${ENV_VAR} or file:PATH" }),
});

/** `storage`: where keys, budgets, the usage ledger and alert state live. */
export const storageSchema = z.strictObject({
  sqlite: z
    .strictObject({
      /** The SQLite database file (WAL mode); `:memory:` keeps nothing across restarts (tests). */
      path: z.string().min(1).default("./llm-gateway.db"),
      /** How long finished requests wait before their batch is written to the ledger. */
      flushIntervalMs: positiveInt.default(50),
      /** A batch is written at once when it reaches this many requests. */
      maxBatch: positiveInt.default(500),
    })
    .prefault({}),
});

/** `budgets`: how budget reservations behave. */
export const budgetsSchema = z.strictObject({
  /**
   * How long a call may wait for in-flight calls of the same budget to settle, when it fits the budget's
   * spend but not the spend plus what others have reserved. A call that cannot fit even then fails at once.
   */
  maxWaitMs: z.number().int().nonnegative().default(10_000),
});

/** One webhook that receives alerts as JSON POSTs. */
export const webhookSchema = z.strictObject({
  url: z.url(),
  /** Extra headers (for example an authorization token the receiver checks). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Time limit of one delivery attempt. */
  timeoutMs: positiveInt.default(5_000),
  /** Delivery attempts before an alert is given up for this webhook (the log keeps it). */
  maxAttempts: positiveInt.default(8),
});

/** `alerts`: budget thresholds, circuit changes and error rates, sent to webhooks, logs and telemetry. */
export const alertsSchema = z.strictObject({
  /** Percent of a budget's limit at which an alert fires, once per budget period. */
  budgetThresholds: z.array(z.number().gt(0).max(1000)).default([80, 100]),
  webhooks: z.array(webhookSchema).default([]),
  /** A model's failed share of requests over `windowMs` at or above `threshold` alerts (once until it drops). */
  errorRate: z
    .strictObject({
      threshold: z.number().gt(0).max(1).default(0.5),
      windowMs: positiveInt.default(300_000),
      minRequests: positiveInt.default(20),
    })
    .prefault({}),
  /** An alert when a provider target's circuit opens and when it closes again. */
  circuitChanges: z.boolean().default(true),
});

/** The auth section, when present. */
export type AuthConfig = z.output<typeof authSchema>;
/** The storage section. */
export type StorageConfig = z.output<typeof storageSchema>;
/** The alerts section. */
export type AlertsConfig = z.output<typeof alertsSchema>;
/** One alert webhook. */
export type WebhookConfig = z.output<typeof webhookSchema>;
