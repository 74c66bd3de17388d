import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { start } from "../support/cli-process.js";
import { freePort } from "../support/free-port.js";

/**
 * Issue 10, shared store failures, attacked end to end: a real `llm-gateway serve` keeps its rate limits in a
 * real redis-server, which is paused (SIGSTOP: a hung Redis) and then killed while calls keep coming. With
 * `redisFailMode: open` every call is still answered, without waiting on Redis longer than `redisTimeoutMs`,
 * and the log says when Redis went away and came back. (Needs redis-server; test/pipeline/rate-limit/rate-limit-redis.test.ts
 * fails in CI when it is missing.)
 */

const redisBinary = spawnSync("redis-server", ["--version"]).status === 0;
const providerKey = "sk-hardening-redis";

function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? Number.NaN;
}

describe.skipIf(!redisBinary)("Redis paused and killed under a running gateway (redisFailMode open)", () => {
  let redis: ChildProcess;
  let emulator: Emulator;
  let gateway: ReturnType<typeof start>;
  let dir: string;
  let url = "";

  beforeAll(async () => {
    const redisPort = await freePort();
    redis = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    emulator = await startEmulator();
    dir = mkdtempSync(join(tmpdir(), "llm-gateway-hardening-redis-"));
    const config = {
      server: { host: "127.0.0.1" },
      storage: { sqlite: { path: join(dir, "gateway.db") } },
      pipeline: {
        rateLimiting: {
          store: "redis",
          redisUrl: `redis://127.0.0.1:${String(redisPort)}`,
          redisFailMode: "open",
          // 150 ms, not 50: a healthy Redis on a busy machine (CI runs three test files on two cores) must not
          // time out and flap the store's state, which would log more changes than the two asserted below.
          redisTimeoutMs: 150,
        },
      },
      providers: [
        {
          name: "openai",
          type: "openai",
          apiKey: "${OPENAI_API_KEY}",
          baseUrl: `${emulator.url}/v1`,
          // Far above the load: every call is counted in Redis, none is ever held.
          rateLimit: { requestsPerMinute: 100_000, tokensPerMinute: 100_000_000 },
        },
      ],
      models: [{ name: "gpt-4o", targets: [{ provider: "openai", model: "gpt-4o" }] }],
    };
    writeFileSync(join(dir, "gateway.yaml"), JSON.stringify(config));
    gateway = start(["serve", "--config", join(dir, "gateway.yaml"), "--port", "0"], { OPENAI_API_KEY: providerKey });
    url = `http://127.0.0.1:${String((await gateway.line("llm-gateway listening"))["port"])}`;
  });

  afterAll(async () => {
    gateway.child.kill("SIGKILL");
    await gateway.exit;
    redis.kill("SIGKILL");
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** `count` chats one after another; the latency of each (all must be answered). */
  async function chats(count: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      const response = await fetch(`${url}/llm.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "gpt-4o",
          messages: [{ role: "ROLE_USER", content: "hi" }],
          options: { maxTokens: 2 },
        }),
        signal: AbortSignal.timeout(5_000),
      });
      expect(response.status).toBe(200);
      await response.json();
      times.push(performance.now() - started);
    }
    return times;
  }

  const logged = (msg: string): Record<string, unknown>[] =>
    gateway
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === msg);

  it("keeps answering while Redis hangs and after it dies, each call bounded, and logs each change once", async () => {
    await chats(10); // warm-up
    const healthy = await chats(40);
    redis.kill("SIGSTOP");
    const hung = await chats(40);
    redis.kill("SIGCONT");
    await gateway.line("rate-limit store: Redis reachable again; limits are shared again");
    redis.kill("SIGKILL");
    const dead = await chats(40);
    const added = { hung: p99(hung) - p99(healthy), dead: p99(dead) - p99(healthy) };
    console.log(
      `Redis paused, then killed: added p99 ${added.hung.toFixed(1)} ms (paused), ${added.dead.toFixed(1)} ms (killed) ` +
        `over ${p99(healthy).toFixed(1)} ms healthy`,
    );
    // The target is 100 ms of added p99 (measured above); on a shared test machine the assertion
    // only rules out waiting on Redis past its timeout for long (a hang would take seconds).
    expect(Math.max(...hung, ...dead)).toBeLessThan(1_000);
    const unreachable = logged("rate-limit store: Redis unreachable; limits are enforced per process until it is back");
    expect(unreachable.length).toBe(2); // once when paused, once when killed: not once per call
    expect(unreachable[0]).toMatchObject({ level: 50, redisFailMode: "open" });
    expect(logged("rate-limit store: Redis reachable again; limits are shared again")).toHaveLength(1);
  }, 60_000);
});
