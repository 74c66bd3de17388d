import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { keySecret } from "../src/auth/key-secret.js";
import { parseConfigObject, parseConfigText } from "../src/config/load-config.js";
import { startEmulator } from "../src/emulator/emulator.js";
import { parseFault } from "../src/emulator/fault.js";

/**
 * The README's own examples, read from README.md itself, so that the README and the code cannot drift apart
 * unnoticed: its YAML is accepted, its documented defaults are the defaults, its fault header examples parse,
 * and the facts it states about keys and prices hold.
 */

const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const block = (marker: RegExp): string => {
  const found = yamlBlocks.filter((b) => marker.test(b));
  if (found.length !== 1)
    throw new Error(`expected one README yaml block matching ${String(marker)}, found ${found.length}`);
  return found[0] ?? "";
};
/** "Configuration", in production: the full example (the local one starts `server: {`, on one line). */
const configurationBlock = block(/^server:\n/m);
/** "Routing, retries, limits and health". */
const pipelineBlock = block(/^pipeline:/m);
/** "Keys, budgets and usage". */
const authBlock = block(/^auth:/m);

const env = {
  OPENAI_API_KEY: "sk-readme-openai",
  AZURE_OPENAI_API_KEY: "readme-azure",
  AZURE_WEST_API_KEY: "readme-azure-west",
  LLM_GATEWAY_ADMIN_KEY: "readme-admin",
};
let dir: string;
let configurationText: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-readme-"));
  // The example mounts Anthropic's key at /run/secrets/anthropic; here it is a file of the test's own.
  writeFileSync(join(dir, "anthropic"), "sk-ant-readme\n");
  configurationText = configurationBlock.replace("file:/run/secrets/anthropic", `file:${join(dir, "anthropic")}`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Tree = Record<string, unknown> & { providers: Record<string, unknown>[] };

describe("README: Configuration", () => {
  it("the example is accepted as written, ${VAR}, ${VAR:-default} and file: keys resolved", () => {
    const config = parseConfigText(configurationText, { env });
    expect(config.server).toEqual({
      host: "0.0.0.0",
      port: 50051,
      maxRequestBytes: 4194304,
      shutdownGraceMs: 10000,
      drainDelayMs: 0,
      maxPendingRequestBytes: 33554432,
      maxConnections: 10000,
      maxInFlightCalls: 4096,
      maxConcurrentStreams: 100,
      sniffTimeoutMs: 10000,
      headersTimeoutMs: 10000,
      requestTimeoutMs: 60000,
      idleTimeoutMs: 65000,
    });
    expect(config.providers.map((p) => [p.name, p.type, p.apiKey.reveal()])).toEqual([
      ["openai", "openai", "sk-readme-openai"],
      ["azure-east", "azure", "readme-azure"],
      ["azure-west", "azure", "readme-azure-west"],
      ["claude", "anthropic", "sk-ant-readme"],
      // ${VLLM_API_KEY:-none}, with VLLM_API_KEY unset.
      ["local-vllm", "openai-compatible", "none"],
    ]);
    expect(
      parseConfigText(configurationText, { env: { ...env, VLLM_API_KEY: "set" } }).providers[4]?.apiKey.reveal(),
    ).toBe("set");
    expect(config.providers[0]).toMatchObject({
      organization: "org-123",
      timeoutMs: 600000,
      rateLimit: { requestsPerMinute: 3500, tokensPerMinute: 90000 },
    });
    expect(config.providers[2]?.defaultMaxTokens).toBe(4096);
    expect(config.pricing.models["meta-llama/Llama-3.1-8B-Instruct"]).toMatchObject({ input: 0.05, output: 0.08 });
    // "Keys never appear in ... config dumps (they print as [REDACTED])".
    const dump = JSON.stringify(config);
    for (const secret of ["sk-readme-openai", "readme-azure", "sk-ant-readme"]) expect(dump).not.toContain(secret);
    expect(dump).toContain("[REDACTED]");
  });

  it("the defaults the README labels as defaults are the defaults", () => {
    const minimal = parseConfigObject(
      {
        providers: [{ name: "openai", type: "openai", apiKey: "${OPENAI_API_KEY}" }],
        models: [{ name: "m", targets: [{ provider: "openai", model: "gpt-4o" }] }],
      },
      { env },
    );
    expect(minimal.server.host).toBe("0.0.0.0"); // "host: 0.0.0.0  # default"
    expect(minimal.server.port).toBe(50051); // "port: 50051  # default; --port overrides"
    expect(minimal.storage.sqlite.path).toBe("./llm-gateway.db"); // "storage: sqlite: { path: ./llm-gateway.db } ... default shown"
    expect(minimal.models[0]?.routing.strategy).toBe("ordered"); // "ordered (default)"
    expect(minimal.providers[0]?.timeoutMs).toBe(600000);
  });

  it("the routing example is accepted together with the configuration example", () => {
    // The routing block lists only what it adds: its pipeline section, the openai provider's limits, timeouts,
    // breaker and health check, and two models; every provider it names is defined in the configuration block.
    const base = parseYaml(configurationText) as Tree;
    const routing = parseYaml(pipelineBlock) as Tree;
    const providers = base.providers.map((p) => ({
      ...p,
      ...(routing.providers.find((r) => r["name"] === p["name"]) ?? {}),
    }));
    const tree = { ...base, pipeline: routing["pipeline"], providers, models: routing["models"] };
    const config = parseConfigObject(tree, { env, baseDir: dir });
    expect(config.pipeline.retry).toMatchObject({
      maxAttempts: 3,
      baseDelayMs: 250,
      maxDelayMs: 8000,
      maxRetryAfterMs: 30000,
      budget: { ratio: 0.1, minPerSecond: 1 },
    });
    expect(config.pipeline.rateLimiting).toMatchObject({
      store: "memory",
      queue: { maxDepth: 256, maxWaitMs: 30000 },
      defaultMaxTokens: 1024,
      clientHeader: "x-client-id",
      perClient: { requestsPerMinute: 600, tokensPerMinute: 200000 },
      clientOverrides: { "batch-jobs": { requestsPerMinute: 60 } },
    });
    expect(config.providers[0]).toMatchObject({
      timeouts: { connectMs: 5000, firstTokenMs: 20000, idleMs: 15000, totalMs: 120000 },
      circuitBreaker: {
        failureThreshold: 5,
        errorRate: 0.5,
        windowMs: 60000,
        minRequests: 20,
        openMs: 30000,
        halfOpenProbes: 1,
      },
      healthCheck: { model: "gpt-4o-mini", intervalMs: 30000 },
    });
    expect(
      config.models.map((m) => [m.name, m.routing.strategy, m.routing.midStream, m.targets.map((t) => t.weight)]),
    ).toEqual([
      ["gpt-4o", "least-latency", "continue", [3, 1, 1]],
      ["smart", "ordered", "error", [1, 1]],
    ]);
  });

  it("the keys, budgets and alerts example is accepted together with the configuration example", () => {
    const base = parseYaml(configurationText) as Tree;
    const config = parseConfigObject({ ...base, ...(parseYaml(authBlock) as object) }, { env, baseDir: dir });
    expect(config.auth?.adminKey.reveal()).toBe("readme-admin");
    expect(config.storage.sqlite.path).toBe("./llm-gateway.db");
    expect(config.budgets.maxWaitMs).toBe(10000);
    expect(config.alerts).toMatchObject({
      budgetThresholds: [80, 100],
      errorRate: { threshold: 0.5, windowMs: 300000, minRequests: 20 },
    });
    expect(config.alerts.webhooks).toHaveLength(1);
    expect(JSON.stringify(config)).not.toContain("readme-admin");
  });
});

describe("README: The provider emulator", () => {
  it("every fault header example parses to a fault", () => {
    const paragraph = /`x-emulator-fault` header[\s\S]*?\n\n/.exec(readme)?.[0] ?? "";
    const examples = [...paragraph.matchAll(/`([a-z-]+(?:=[^`]*)?)`/g)]
      .map((m) => m[1] ?? "")
      .filter((e) => e !== "x-emulator-fault");
    expect(examples).toEqual(
      expect.arrayContaining([
        "status=429;retry-after=2",
        "status=529",
        "code=insufficient_quota",
        "code=content_filter",
        "latency=200",
        "ttft=500",
        "chunk-delay=20",
        "drop-after=5",
        "error-after=3",
        "truncate-after=4",
        "hang",
      ]),
    );
    for (const example of examples) expect(Object.keys(parseFault(example)).length).toBeGreaterThan(0);
  });

  it("message=... replaces the message of the error body, in each API's envelope", async () => {
    const emulator = await startEmulator({ apiKey: "sk-readme-emulator" });
    try {
      const fault = { "x-emulator-fault": "status=502;message=upstream said: Bad gateway" };
      const openai = await fetch(`${emulator.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-readme-emulator", ...fault },
        body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(openai.status).toBe(502);
      expect(((await openai.json()) as { error: { message: string } }).error.message).toBe(
        "upstream said: Bad gateway",
      );
      const anthropic = await fetch(`${emulator.url}/v1/messages`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-api-key": "sk-readme-emulator",
          "anthropic-version": "2023-06-01",
          ...fault,
        },
        body: JSON.stringify({
          model: "claude-sonnet-4-20250514",
          max_tokens: 5,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      expect(anthropic.status).toBe(502);
      expect(((await anthropic.json()) as { error: { message: string } }).error.message).toBe(
        "upstream said: Bad gateway",
      );
    } finally {
      await emulator.close();
    }
  });
});

describe("README: Keys, budgets and usage", () => {
  it("secrets start with llmgw_ and carry 192 random bits", () => {
    const secrets = Array.from({ length: 200 }, () => keySecret.create().secret);
    for (const secret of secrets) {
      expect(secret.startsWith("llmgw_")).toBe(true);
      expect(Buffer.from(secret.slice("llmgw_".length), "base64url")).toHaveLength(24);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });
});

describe("README: dated price table", () => {
  it("src/usage/prices.json says its date in asOf", () => {
    const table = JSON.parse(
      readFileSync(fileURLToPath(new URL("../src/usage/prices.json", import.meta.url)), "utf8"),
    ) as { asOf?: string };
    expect(table.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
