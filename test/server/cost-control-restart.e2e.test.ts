import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminKey,
  bearer,
  chatRequest,
  createKey,
  kindOf,
  settle,
  startWebhookReceiver,
  totalBudget,
  type WebhookReceiver,
} from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness, type HarnessOptions } from "../support/gateway-harness.js";

const words = "one two three four five six seven eight nine ten";
// Prompt tokens are free here, so an answer of max_tokens = 5 costs exactly its reservation (5 × $10/M = 50 µ$)
// and a budget of 250 µ$ is exactly five answers: 80% after the fourth, 100% after the fifth.
const answerMicros = 50n;
const prices = { "gpt-4o": { input: 0, output: 10 } };

let directory: string;
let receiver: WebhookReceiver;
let options: HarnessOptions;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "llm-gateway-restart-"));
  // The first delivery fails: alerts are retried, and still arrive once each.
  receiver = await startWebhookReceiver((index) => (index === 0 ? 500 : 204));
  options = {
    adminKey,
    prices,
    databasePath: join(directory, "gateway.db"),
    alerts: { webhooks: [{ url: receiver.url, headers: { "x-hook-token": "t" } }], budgetThresholds: [80, 100] },
  };
});
afterAll(async () => {
  await receiver.close();
  rmSync(directory, { recursive: true, force: true });
});

const spend = (h: Harness, secret: string) => settle(h.grpc.chat(chatRequest(models.openai, words, 5), bearer(secret)));

describe("cost control across a restart on the same database", () => {
  it("keeps keys, revocations, spend and alert state, and alerts exactly once at 80% and at 100%", async () => {
    let h = await startHarness(options);
    let key: { id: string; secret: string };
    let revoked: { id: string; secret: string };
    try {
      key = await createKey(h, { tenant: "acme", name: "billing", budget: totalBudget(answerMicros * 5n) });
      revoked = await createKey(h, { tenant: "acme", name: "old" });
      await h.admin.revokeKey({ id: revoked.id }, bearer(adminKey));
      await h.admin.setTenantBudget({ tenant: "acme", budget: totalBudget(1_000_000n) }, bearer(adminKey));
      for (let i = 0; i < 4; i++) {
        const outcome = await spend(h, key.secret);
        expect("ok" in outcome && outcome.ok.usage?.costMicros).toBe(answerMicros);
      }
      await receiver.waitFor(1);
      expect(receiver.bodies.map((b) => b["thresholdPercent"])).toEqual([80]);
    } finally {
      await h.close();
    }

    h = await startHarness(options);
    try {
      const keys = (await h.admin.listKeys({ includeRevoked: true }, bearer(adminKey))).keys;
      expect(keys.map((k) => [k.id, k.name, k.revoked, k.spentMicros])).toEqual([
        [key.id, "billing", false, answerMicros * 4n],
        [revoked.id, "old", true, 0n],
      ]);
      const tenants = (await h.admin.listTenantBudgets({}, bearer(adminKey))).tenantBudgets;
      expect(tenants.map((t) => [t.tenant, t.budget?.limitMicros, t.spentMicros])).toEqual([
        ["acme", 1_000_000n, answerMicros * 4n],
      ]);
      const old = await spend(h, revoked.secret);
      expect("error" in old && old.error.code).toBe(Code.Unauthenticated);

      const fifth = await spend(h, key.secret);
      expect("ok" in fifth && fifth.ok.usage?.costMicros).toBe(answerMicros);
      const sixth = await spend(h, key.secret);
      expect("error" in sixth && kindOf(sixth.error)).toBe("budget_exceeded");

      await receiver.waitFor(2);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.bodies.map((b) => b["thresholdPercent"])).toEqual([80, 100]);
      expect(receiver.bodies[1]).toMatchObject({
        type: "budget_threshold",
        scope: "key",
        keyId: key.id,
        tenant: "acme",
        period: "total",
        thresholdPercent: 100,
        spentMicros: Number(answerMicros * 5n),
        limitMicros: Number(answerMicros * 5n),
      });
      const usage = await h.admin.getUsage({ keyId: key.id }, bearer(adminKey));
      expect(usage.rows[0]?.requests).toBe(5n);
      expect(usage.rows[0]?.costMicros).toBe(answerMicros * 5n);
    } finally {
      await h.close();
    }
  });
});
