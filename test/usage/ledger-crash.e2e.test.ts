import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService, BudgetPeriod } from "../../gen/llm/v1/admin_service_pb.js";
import { LLMService } from "../../gen/llm/v1/llm_service_pb.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { start } from "../support/cli-process.js";
import { adminKey, bearer, chatRequest } from "../support/cost-control-helpers.js";

const providerKey = "sk-crash-test-provider-key";
let emulator: Emulator;
let dir: string;
let config: string;
beforeAll(async () => {
  emulator = await startEmulator({ apiKey: providerKey });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-crash-"));
  config = join(dir, "gateway.yaml");
  writeFileSync(
    config,
    [
      "server: { host: 127.0.0.1, shutdownGraceMs: 200 }",
      `auth: { adminKey: "\${ADMIN_KEY}" }`,
      `storage: { sqlite: { path: "${join(dir, "gateway.db")}", flushIntervalMs: 20 } }`,
      "providers:",
      `  - { name: openai, type: openai, apiKey: "\${OPENAI_API_KEY}", baseUrl: "${emulator.url}/v1" }`,
      "models:",
      "  - { name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }",
    ].join("\n"),
  );
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = { ADMIN_KEY: adminKey, OPENAI_API_KEY: providerKey };

async function serve(): Promise<{
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
  llm: ReturnType<typeof createClient<typeof LLMService>>;
  admin: ReturnType<typeof createClient<typeof AdminService>>;
}> {
  const gateway = start(["serve", "--config", config, "--port", "0"], env);
  const listening = await gateway.line("llm-gateway listening");
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${String(listening["port"])}` });
  return {
    kill: (signal) => {
      gateway.child.kill(signal);
      return gateway.exit;
    },
    llm: createClient(LLMService, transport),
    admin: createClient(AdminService, transport),
  };
}

describe("the usage ledger across a crash", () => {
  it("keeps every settled request and its spend when the process is killed (SIGKILL) between spend checkpoints", async () => {
    const first = await serve();
    const created = await first.admin.createKey(
      { tenant: "acme", name: "crash", budget: { limitMicros: 1_000_000n, period: BudgetPeriod.DAY } },
      bearer(adminKey),
    );
    let answered = 0n;
    for (let i = 0; i < 12; i++)
      answered +=
        (await first.llm.chat(chatRequest("gpt-4o", `request number ${i}`), bearer(created.secret))).usage
          ?.costMicros ?? 0n;
    // The ledger writes every 20 ms; the spend checkpoint (every 5 s) has not run: the process dies now.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await first.kill("SIGKILL")).toBe(null);

    const second = await serve();
    try {
      const [key] = (await second.admin.listKeys({}, bearer(adminKey))).keys;
      expect(key?.spentMicros).toBe(answered);
      const [row] = (await second.admin.getUsage({ keyId: created.key?.id ?? "" }, bearer(adminKey))).rows;
      expect(row?.requests).toBe(12n);
      expect(row?.costMicros).toBe(answered);
      answered +=
        (await second.llm.chat(chatRequest("gpt-4o", "after the crash"), bearer(created.secret))).usage?.costMicros ??
        0n;
    } finally {
      expect(await second.kill("SIGTERM")).toBe(0);
    }

    const third = await serve();
    try {
      const [key] = (await third.admin.listKeys({}, bearer(adminKey))).keys;
      expect(key?.spentMicros).toBe(answered);
    } finally {
      await third.kill("SIGTERM");
    }
  });
});
