import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitingConfig } from "../../config/pipeline-schema.js";
import { ProviderError } from "../../providers/provider-error.js";

/** Where a store keeps its counters now: `redis-unreachable` while Redis fails (see `redisFailMode`). */
export type RateLimitStoreState = "memory" | "redis" | "redis-unreachable";

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
  /** Where the counters are kept now. */
  readonly state: RateLimitStoreState;
  /** Releases the Redis connection, if there is one. */
  close(): Promise<void>;
}

/** What a store is built from besides the config. */
export interface RateLimitStoreOptions {
  /** An existing ioredis client to use instead of connecting to `redisUrl` (the caller then closes it). */
  redis?: Redis;
  /** Called on each change of `state` (Redis lost or back), to log it once per transition. */
  onStateChange?: (state: RateLimitStoreState, error?: unknown) => void;
}

/**
 * The store the config asks for. With `redis`, an ioredis client connects to `redisUrl`; every command is
 * bounded by `redisTimeoutMs`. While Redis cannot be reached, `redisFailMode: open` answers from a per-process
 * memory store (the gateway keeps serving with per-replica limits) and `closed` fails the operation with an
 * `unavailable` error; either way nothing waits on a hung Redis. ioredis is loaded only for the redis store.
 */
export function createRateLimitStore(config: RateLimitingConfig, options: RateLimitStoreOptions = {}): RateLimitStore {
  const keyPrefix = `${config.keyPrefix}:rl`;
  const memory = new RateLimiterMemory({ keyPrefix, points: maxPoints, duration: 0 });
  if (config.store === "memory") return new MemoryStore(memory);
  const ownClient = options.redis === undefined;
  const client = options.redis === undefined ? connect(config) : Promise.resolve(options.redis);
  const redis = client.then(
    (storeClient) =>
      new RateLimiterRedis({ storeClient, keyPrefix, points: maxPoints, duration: 0, rejectIfRedisNotReady: true }),
  );
  return new RedisStore(redis, memory, config, options.onStateChange, async () => {
    if (!ownClient) return;
    const connected = await client;
    await connected.quit().catch(() => connected.disconnect());
  });
}

/** Counters never reject: the limiter compares sums itself. */
const maxPoints = Number.MAX_SAFE_INTEGER;

async function connect(config: RateLimitingConfig): Promise<Redis> {
  if (config.redisUrl === undefined) throw new Error("rate limiting store redis needs redisUrl");
  const { Redis } = await import("ioredis");
  const client = new Redis(config.redisUrl.reveal(), {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    commandTimeout: config.redisTimeoutMs,
  });
  client.on("error", () => {});
  return client;
}

async function add(limiter: RateLimiterAbstract, key: string, amount: number, ttlMs: number): Promise<number> {
  const options = { customDuration: Math.max(1, Math.ceil(ttlMs / 1000)) };
  const result =
    amount >= 0 ? await limiter.penalty(key, amount, options) : await limiter.reward(key, -amount, options);
  return result.consumedPoints;
}

async function read(limiter: RateLimiterAbstract, keys: readonly string[]): Promise<number[]> {
  const results = await Promise.all(keys.map((key) => limiter.get(key)));
  return results.map((result) => result?.consumedPoints ?? 0);
}

class MemoryStore implements RateLimitStore {
  readonly state = "memory";
  readonly #memory: RateLimiterAbstract;

  constructor(memory: RateLimiterAbstract) {
    this.#memory = memory;
  }

  add(key: string, amount: number, ttlMs: number): Promise<number> {
    return add(this.#memory, key, amount, ttlMs);
  }

  read(keys: readonly string[]): Promise<number[]> {
    return read(this.#memory, keys);
  }

  async close(): Promise<void> {}
}

class RedisStore implements RateLimitStore {
  #state: RateLimitStoreState = "redis";
  readonly #redis: Promise<RateLimiterAbstract>;
  readonly #memory: RateLimiterAbstract;
  readonly #config: RateLimitingConfig;
  readonly #onStateChange: ((state: RateLimitStoreState, error?: unknown) => void) | undefined;
  readonly #closeClient: () => Promise<void>;

  constructor(
    redis: Promise<RateLimiterAbstract>,
    memory: RateLimiterAbstract,
    config: RateLimitingConfig,
    onStateChange: ((state: RateLimitStoreState, error?: unknown) => void) | undefined,
    closeClient: () => Promise<void>,
  ) {
    this.#redis = redis;
    this.#memory = memory;
    this.#config = config;
    this.#onStateChange = onStateChange;
    this.#closeClient = closeClient;
  }

  get state(): RateLimitStoreState {
    return this.#state;
  }

  add(key: string, amount: number, ttlMs: number): Promise<number> {
    return this.#run((limiter) => add(limiter, key, amount, ttlMs));
  }

  read(keys: readonly string[]): Promise<number[]> {
    return this.#run((limiter) => read(limiter, keys));
  }

  close(): Promise<void> {
    return this.#closeClient();
  }

  /** Runs `operation` on Redis within redisTimeoutMs; when that fails, per the fail mode. */
  async #run<T>(operation: (limiter: RateLimiterAbstract) => Promise<T>): Promise<T> {
    try {
      const result = await bounded(
        this.#redis.then((limiter) => operation(limiter)),
        this.#config.redisTimeoutMs,
      );
      this.#transition("redis");
      return result;
    } catch (error) {
      this.#transition("redis-unreachable", error);
      if (this.#config.redisFailMode === "open") return operation(this.#memory);
      throw new ProviderError({
        kind: "unavailable",
        provider: "",
        message:
          "rate limits cannot be checked: Redis is unreachable and pipeline.rateLimiting.redisFailMode is closed",
        retryable: false,
      });
    }
  }

  #transition(state: RateLimitStoreState, error?: unknown): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#onStateChange?.(state, error);
  }
}

/** `work`, or a rejection once `ms` pass first (ioredis' commandTimeout does not cover a connection being set up). */
function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
