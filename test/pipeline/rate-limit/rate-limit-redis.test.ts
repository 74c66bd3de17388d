import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { createRateLimitStore, type RateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { RateLimiter } from "../../../src/pipeline/rate-limit/rate-limiter.js";
import { freePort } from "../../support/free-port.js";

const redisBinary = spawnSync("redis-server", ["--version"]).status === 0;
/** In CI (.ci/run installs redis-server) a missing binary is a broken set-up, not a reason to skip. */
const inCi = process.env["CI"] === "true";
if (!redisBinary && !inCi) {
  console.warn("rate-limit-redis.test.ts: SKIPPED, no redis-server binary on PATH (apt-get install -y redis-server)");
}

describe.runIf(!redisBinary && inCi)("the Redis suite in CI", () => {
  it("has redis-server on PATH (.ci/run installs it)", () => {
    expect(redisBinary, "redis-server is missing: the Redis rate-limit tests cannot run").toBe(true);
  });
});

async function ready(client: Redis): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve) => client.once("ready", () => resolve()));
}

const signal = new AbortController().signal;
const small = { promptTokens: 10, outputTokens: 10 };

describe.skipIf(!redisBinary)("rate limits in Redis, shared by replicas", () => {
  let server: ChildProcess | undefined;
  let redisUrl = "";
  const clients: Redis[] = [];
  const stores: RateLimitStore[] = [];

  beforeAll(async () => {
    const port = await freePort();
    server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    redisUrl = `redis://127.0.0.1:${port}`;
    const probe = new Redis(redisUrl, { lazyConnect: true, retryStrategy: () => 20 });
    probe.on("error", () => {});
    await probe.connect().catch(() => {});
    await ready(probe);
    probe.disconnect();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    for (const client of clients) client.disconnect();
    server?.kill();
  });

  /** One gateway replica's store: its own ioredis client to the shared server. */
  async function replicaStore(keyPrefix: string): Promise<RateLimitStore> {
    const client = new Redis(redisUrl);
    clients.push(client);
    await ready(client);
    const store = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisUrl, keyPrefix }), {
      redis: client,
    });
    stores.push(store);
    return store;
  }

  function replica(
    store: RateLimitStore,
    limits: { requestsPerMinute?: number; tokensPerMinute?: number },
  ): RateLimiter {
    return new RateLimiter({
      name: "target:shared",
      provider: "shared",
      limits,
      store,
      queue: { maxDepth: 8, maxWaitMs: 500 },
    });
  }

  it("two replicas share one request limit", async () => {
    const a = replica(await replicaStore("t1"), { requestsPerMinute: 3 });
    const b = replica(await replicaStore("t1"), { requestsPerMinute: 3 });
    await a.acquire(small, signal);
    await b.acquire(small, signal);
    await a.acquire(small, signal);
    const refused = await b.acquire(small, signal).catch((error: unknown) => error);
    expect(ProviderError.is(refused, "queue_full")).toBe(true);
    expect(await a.headroom()).toMatchObject({ requests: 0 });
    const keys = await clients[0]?.keys("t1:rl:target:shared:requests:*");
    expect(keys?.length).toBeGreaterThan(0);
  });

  it("a refund on one replica makes room on the other", async () => {
    const a = replica(await replicaStore("t2"), { tokensPerMinute: 100 });
    const b = replica(await replicaStore("t2"), { tokensPerMinute: 100 });
    const first = await a.acquire({ promptTokens: 20, outputTokens: 80 }, signal);
    expect((await b.headroom()).tokens).toBe(0);
    await first.settle({ totalTokens: 30 });
    expect((await b.headroom()).tokens).toBe(70);
    await b.acquire({ promptTokens: 20, outputTokens: 50 }, signal);
    expect((await a.headroom()).tokens).toBe(0);
  });

  it("keeps replicas under different key prefixes apart", async () => {
    const a = replica(await replicaStore("t3-a"), { requestsPerMinute: 1 });
    const b = replica(await replicaStore("t3-b"), { requestsPerMinute: 1 });
    await a.acquire(small, signal);
    await expect(b.acquire(small, signal)).resolves.toBeDefined();
  });

  it("falls back to a per-process limit, without failing or hanging, while Redis cannot be reached", async () => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const store = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisUrl: unreachable }));
    stores.push(store);
    const limiter = new RateLimiter({
      name: "target:down",
      provider: "down",
      limits: { requestsPerMinute: 2 },
      store,
      queue: { maxDepth: 0, maxWaitMs: 100 },
    });
    await limiter.acquire(small, signal);
    await limiter.acquire(small, signal);
    const refused = await limiter.acquire(small, signal).catch((error: unknown) => error);
    expect(ProviderError.is(refused, "queue_full")).toBe(true);
  });

  it("refuses calls as unavailable while Redis cannot be reached with redisFailMode closed, and says so once", async () => {
    const unreachable = `redis://127.0.0.1:${await freePort()}`;
    const changes: string[] = [];
    const store = createRateLimitStore(
      rateLimitingSchema.parse({ store: "redis", redisUrl: unreachable, redisFailMode: "closed" }),
      { onStateChange: (state) => changes.push(state) },
    );
    stores.push(store);
    const limiter = new RateLimiter({
      name: "target:closed",
      provider: "closed",
      limits: { requestsPerMinute: 5 },
      store,
      queue: { maxDepth: 0, maxWaitMs: 100 },
    });
    for (let i = 0; i < 3; i++) {
      const refused = await limiter.acquire(small, signal).catch((error: unknown) => error);
      expect(ProviderError.is(refused, "unavailable")).toBe(true);
      expect(String((refused as Error).message)).toContain("redisFailMode is closed");
    }
    expect(store.state).toBe("redis-unreachable");
    expect(changes).toEqual(["redis-unreachable"]);
  });

  it("keeps limiting without waiting on a hung Redis (SIGSTOP), and shares the limit again once it answers", async () => {
    const port = await freePort();
    const paused = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    try {
      const url = `redis://127.0.0.1:${port}`;
      // 150 ms: long enough that a busy machine (CI runs three test files at once on two cores) does not
      // time out a healthy Redis and flap the store's state; short enough to tell a hang from waiting on it.
      const client = new Redis(url, { commandTimeout: 150, maxRetriesPerRequest: 1 });
      client.on("error", () => {});
      clients.push(client);
      await ready(client);
      const changes: string[] = [];
      const store = createRateLimitStore(
        rateLimitingSchema.parse({ store: "redis", redisUrl: url, redisTimeoutMs: 150 }),
        {
          redis: client,
          onStateChange: (state) => changes.push(state),
        },
      );
      stores.push(store);
      const limiter = new RateLimiter({
        name: "target:hung",
        provider: "hung",
        limits: { requestsPerMinute: 1_000 },
        store,
        queue: { maxDepth: 8, maxWaitMs: 1_000 },
      });
      (await limiter.acquire(small, signal)).release();
      expect(store.state).toBe("redis");
      paused.kill("SIGSTOP");
      const started = performance.now();
      for (let i = 0; i < 5; i++) (await limiter.acquire(small, signal)).release();
      const elapsed = performance.now() - started;
      expect(store.state).toBe("redis-unreachable");
      // Five acquisitions, each a few store operations bounded by redisTimeoutMs (150 ms), not by Redis.
      expect(elapsed).toBeLessThan(5 * 4 * 150 + 500);
      paused.kill("SIGCONT");
      for (let i = 0; i < 100 && store.state !== "redis"; i++) {
        (await limiter.acquire(small, signal)).release();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(store.state).toBe("redis");
      expect(changes).toEqual(["redis-unreachable", "redis"]);
    } finally {
      paused.kill("SIGCONT");
      paused.kill();
    }
  });
});
