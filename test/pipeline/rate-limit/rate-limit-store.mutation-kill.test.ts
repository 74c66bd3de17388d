// Kills mutants that survived `npm run test:mutation` in src/pipeline/rate-limit/rate-limit-store.ts (see
// docs/testing.md, "Mutation testing"): the Redis store's connection, its close, and its behaviour while Redis
// is gone. Each test starts its own redis-server; stores are built inside the tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { describe, expect, it, vi } from "vitest";
import { rateLimitingSchema } from "../../../src/config/pipeline-schema.js";
import { createRateLimitStore } from "../../../src/pipeline/rate-limit/rate-limit-store.js";
import { freePort } from "../../support/free-port.js";

const redisBinary = spawnSync("redis-server", ["--version"]).status === 0;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-server on a free port, and a client of its own to look at it (both ended by `stop`). */
async function startRedis(): Promise<{ url: string; admin: Redis; process: ChildProcess; stop(): void }> {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { retryStrategy: () => 20, maxRetriesPerRequest: 1 });
  admin.on("error", () => {});
  if (admin.status !== "ready") await new Promise<void>((resolve) => admin.once("ready", () => resolve()));
  return {
    url,
    admin,
    process: child,
    stop() {
      admin.disconnect();
      child.kill("SIGKILL");
    },
  };
}

async function connectedClients(admin: Redis): Promise<number> {
  const info = await admin.info("clients");
  return Number(/connected_clients:(\d+)/.exec(info)?.[1] ?? "0");
}

async function until(condition: () => Promise<boolean>, ms = 3_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await condition()) return true;
    await sleep(20);
  }
  return condition();
}

describe.skipIf(!redisBinary)("the Redis rate-limit store", () => {
  it("leaves open, on close, a client the caller passed in", async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url);
    try {
      const store = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisUrl: redis.url }), {
        redis: client,
      });
      expect(await store.add("k", 2, 10_000)).toBe(2);
      await store.close();
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
      redis.stop();
    }
  });

  it("ends, on close, the connection it opened itself", async () => {
    const redis = await startRedis();
    try {
      const store = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisUrl: redis.url }));
      await store.add("k", 2, 10_000);
      expect(await until(async () => (await connectedClients(redis.admin)) === 2)).toBe(true);
      await store.close();
      expect(await until(async () => (await connectedClients(redis.admin)) === 1)).toBe(true);
    } finally {
      redis.stop();
    }
  });

  it("falls back to memory soon when Redis dies while a call waits on it", async () => {
    const redis = await startRedis();
    const store = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisUrl: redis.url }));
    try {
      await store.add("k", 1, 10_000);
      expect(await until(async () => (await connectedClients(redis.admin)) === 2)).toBe(true);
      // The call is sent and gets no answer; then the server goes away with it.
      await redis.admin.call("CLIENT", "PAUSE", "5000", "ALL");
      const pending = store.add("k", 1, 10_000);
      await sleep(50);
      redis.stop();
      const outcome = await Promise.race([pending.then(() => "answered"), sleep(3_000).then(() => "still waiting")]);
      expect(outcome).toBe("answered");
    } finally {
      redis.stop();
      await store.close();
    }
  });

  it("prints nothing about connection errors while Redis cannot be reached", async () => {
    const port = await freePort();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const store = createRateLimitStore(
      rateLimitingSchema.parse({ store: "redis", redisUrl: `redis://127.0.0.1:${port}` }),
    );
    try {
      // Served by the memory fallback while ioredis keeps failing to connect.
      expect(await store.add("k", 3, 10_000)).toBe(3);
      await sleep(300);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
      await store.close();
    }
  });
});

describe("the Redis rate-limit store without redisUrl (the config refuses it; built directly here)", () => {
  it("counts Redis as unreachable: per-process counters when open, refused calls when closed", async () => {
    const errors: unknown[] = [];
    const open = createRateLimitStore(rateLimitingSchema.parse({ store: "redis" }), {
      onStateChange: (_state, error) => errors.push(error),
    });
    expect(await open.add("k", 1, 10_000)).toBe(1);
    expect(open.state).toBe("redis-unreachable");
    expect(String(errors[0])).toContain("rate limiting store redis needs redisUrl");
    await open.close().catch(() => undefined);
    const closed = createRateLimitStore(rateLimitingSchema.parse({ store: "redis", redisFailMode: "closed" }));
    await expect(closed.add("k", 1, 10_000)).rejects.toThrow("redisFailMode is closed");
    await closed.close().catch(() => undefined);
  });
});
