import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitingConfig } from "../config/pipeline-schema.js";

/**
 * Integer counters that expire, where the rate limiters keep their windows: in process memory, or in Redis so
 * that every replica of the gateway shares one limit. Counters are read and written through
 * rate-limiter-flexible (`penalty`, `reward`, `get`), whose Redis increments are atomic Lua scripts.
 */
export interface RateLimitStore {
  /**
   * Adds `amount` (negative to take back) to `key` and returns its new value. A key created by this call
   * expires `ttlMs` later (rounded up to whole seconds); an existing key keeps its expiry.
   */
  add(key: string, amount: number, ttlMs: number): Promise<number>;
  /** The current values of `keys`, 0 for a key that does not exist. */
  read(keys: readonly string[]): Promise<number[]>;
  /** Releases the Redis connection, if there is one. */
  close(): Promise<void>;
}

/** What a store is built from besides the config. */
export interface RateLimitStoreOptions {
  /** An existing ioredis client to use instead of connecting to `redisUrl` (the caller then closes it). */
  redis?: Redis;
}

/**
 * The store the config asks for. With `redis`, an ioredis client connects to `redisUrl`; while Redis cannot be
 * reached, every operation falls back at once to a per-process memory store (rate-limiter-flexible's insurance
 * limiter), so the gateway keeps serving with per-replica limits instead of failing or hanging. ioredis is
 * loaded only for the redis store.
 */
export function createRateLimitStore(config: RateLimitingConfig, options: RateLimitStoreOptions = {}): RateLimitStore {
  const keyPrefix = `${config.keyPrefix}:rl`;
  const memory = new RateLimiterMemory({ keyPrefix, points: maxPoints, duration: 0 });
  if (config.store === "memory") return new FlexibleStore(memory, async () => {});
  const ownClient = options.redis === undefined;
  const client = options.redis === undefined ? connect(config.redisUrl) : Promise.resolve(options.redis);
  const limiter = client.then(
    (storeClient) =>
      new RateLimiterRedis({ storeClient, keyPrefix, points: maxPoints, duration: 0, rejectIfRedisNotReady: true, insuranceLimiter: memory }),
  );
  return new FlexibleStore(limiter, async () => {
    if (!ownClient) return;
    const redis = await client;
    await redis.quit().catch(() => redis.disconnect());
  });
}

/** Counters never reject: the limiter compares sums itself. */
const maxPoints = Number.MAX_SAFE_INTEGER;

async function connect(redisUrl: string | undefined): Promise<Redis> {
  if (redisUrl === undefined) throw new Error("rate limiting store redis needs redisUrl");
  const { Redis } = await import("ioredis");
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  client.on("error", () => {});
  return client;
}

class FlexibleStore implements RateLimitStore {
  constructor(
    private readonly limiter: RateLimiterAbstract | Promise<RateLimiterAbstract>,
    private readonly closeClient: () => Promise<void>,
  ) {}

  async add(key: string, amount: number, ttlMs: number): Promise<number> {
    const limiter = await this.limiter;
    const options = { customDuration: Math.max(1, Math.ceil(ttlMs / 1000)) };
    const result = amount >= 0 ? await limiter.penalty(key, amount, options) : await limiter.reward(key, -amount, options);
    return result.consumedPoints;
  }

  async read(keys: readonly string[]): Promise<number[]> {
    const limiter = await this.limiter;
    const results = await Promise.all(keys.map((key) => limiter.get(key)));
    return results.map((result) => result?.consumedPoints ?? 0);
  }

  close(): Promise<void> {
    return this.closeClient();
  }
}
