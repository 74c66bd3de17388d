import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AlertsConfig } from "../../../src/config/cost-control-schema.js";
import { AlertCenter } from "../../../src/usage/alerts/alert-center.js";
import { AlertOutbox } from "../../../src/usage/alerts/alert-outbox.js";
import type { AlertEnvelope } from "../../../src/usage/alerts/alert.js";
import { WebhookDispatcher } from "../../../src/usage/alerts/webhook-dispatcher.js";
import type { BudgetScope, BudgetSpend } from "../../../src/usage/budget-book.js";
import { openUsageDatabase, type UsageDatabase } from "../../../src/usage/usage-database.js";
import { startWebhookServer } from "./webhook-server.js";

const at = (iso: string): number => Date.parse(iso);
const day15 = at("2025-03-15T00:00:00.000Z");
const day16 = at("2025-03-16T00:00:00.000Z");
const hookUrl = "http://127.0.0.1:9/alerts";

function config(overrides: Partial<AlertsConfig> = {}): AlertsConfig {
  return {
    budgetThresholds: [100, 80],
    webhooks: [{ url: hookUrl, headers: {}, timeoutMs: 1_000, maxAttempts: 3 }],
    errorRate: { threshold: 0.5, windowMs: 60_000, minRequests: 4 },
    circuitChanges: true,
    ...overrides,
  };
}

const keyScope: BudgetScope = {
  scope: "key:key_a",
  kind: "key",
  tenant: "acme",
  keyId: "key_a",
  label: 'key key_a ("svc")',
  budget: { limitMicros: 1_000_000, period: "day" },
};
const spend = (spentMicros: number, windowStart = day15): BudgetSpend => ({
  scope: keyScope,
  budget: { limitMicros: 1_000_000, period: "day" },
  windowStart,
  spentMicros,
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Center {
  center: AlertCenter;
  outbox: AlertOutbox;
  alerts: AlertEnvelope[];
  clock: { t: number };
}

/** An alert center whose dispatcher is stopped: alerts stay in the outbox for the test to read. */
async function center(db: UsageDatabase, alertsConfig: AlertsConfig = config()): Promise<Center> {
  const outbox = new AlertOutbox(db);
  const dispatcher = new WebhookDispatcher({ outbox, webhooks: alertsConfig.webhooks });
  await dispatcher.stop(0);
  const alerts: AlertEnvelope[] = [];
  const clock = { t: at("2025-03-15T12:00:00.000Z") };
  const c = new AlertCenter({
    config: alertsConfig,
    outbox,
    dispatcher,
    onAlert: (a) => alerts.push(a),
    now: () => clock.t,
  });
  return { center: c, outbox, alerts, clock };
}

const types = (alerts: readonly AlertEnvelope[]): string[] =>
  alerts.map((a) => (a.type === "budget_threshold" ? `${a.type}:${a.thresholdPercent}` : a.type));

describe("AlertCenter budget thresholds", () => {
  it("fires 80 then 100 once each per period", async () => {
    const { center: c, alerts, outbox } = await center(openUsageDatabase(":memory:"));
    c.budgetSpend(spend(500_000));
    expect(alerts).toEqual([]);
    c.budgetSpend(spend(800_000));
    c.budgetSpend(spend(900_000));
    expect(types(alerts)).toEqual(["budget_threshold:80"]);
    c.budgetSpend(spend(1_000_000));
    c.budgetSpend(spend(1_300_000));
    expect(types(alerts)).toEqual(["budget_threshold:80", "budget_threshold:100"]);
    expect(alerts[0]).toMatchObject({
      type: "budget_threshold",
      scope: "key",
      keyId: "key_a",
      tenant: "acme",
      period: "day",
      periodStart: "2025-03-15T00:00:00.000Z",
      thresholdPercent: 80,
      spentMicros: 800_000,
      limitMicros: 1_000_000,
      message: "key key_a (tenant acme) reached 80% of its daily budget: $0.80 of $1.00",
    });
    const queued = outbox.pending();
    expect(queued.map((e) => e.webhook)).toEqual([hookUrl, hookUrl]);
    expect(JSON.parse(queued[1]?.payload ?? "{}")).toMatchObject({ thresholdPercent: 100, spentMicros: 1_000_000 });
  });

  it("fires every threshold passed by one settlement", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    c.budgetSpend(spend(1_000_000));
    expect(types(alerts)).toEqual(["budget_threshold:80", "budget_threshold:100"]);
  });

  it("fires again in a new day window", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    c.budgetSpend(spend(850_000, day15));
    c.budgetSpend(spend(850_000, day16));
    c.budgetSpend(spend(870_000, day16));
    expect(alerts.map((a) => (a.type === "budget_threshold" ? a.periodStart : ""))).toEqual([
      "2025-03-15T00:00:00.000Z",
      "2025-03-16T00:00:00.000Z",
    ]);
  });

  it("keeps key and tenant budgets apart", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    c.budgetSpend(spend(800_000));
    const tenant: BudgetScope = {
      scope: "tenant:acme",
      kind: "tenant",
      tenant: "acme",
      label: "tenant acme",
      budget: { limitMicros: 1_000_000, period: "day" },
    };
    c.budgetSpend({ ...spend(800_000), scope: tenant });
    expect(alerts.map((a) => a.message)).toEqual([
      "key key_a (tenant acme) reached 80% of its daily budget: $0.80 of $1.00",
      "tenant acme reached 80% of its daily budget: $0.80 of $1.00",
    ]);
    expect(alerts[1]).not.toHaveProperty("keyId");
  });

  it("does not fire a threshold again after a restart on the same database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-alerts-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "gateway.db");
    const first = openUsageDatabase(path);
    const before = await center(first);
    before.center.budgetSpend(spend(850_000));
    expect(types(before.alerts)).toEqual(["budget_threshold:80"]);
    first.close();

    const second = openUsageDatabase(path);
    cleanups.push(() => void second.close());
    const after = await center(second);
    after.center.budgetSpend(spend(900_000));
    after.center.budgetSpend(spend(1_000_000));
    expect(types(after.alerts)).toEqual(["budget_threshold:100"]);
    expect(after.outbox.pending()).toHaveLength(2);
  });
});

describe("AlertCenter circuit changes", () => {
  it("alerts when a circuit opens and when it closes again", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    c.circuitChanged("openai-main", "gpt-4o", "open", "closed");
    c.circuitChanged("openai-main", "gpt-4o", "half_open", "open");
    c.circuitChanged("openai-main", "gpt-4o", "open", "half_open");
    c.circuitChanged("openai-main", "gpt-4o", "half_open", "open");
    c.circuitChanged("openai-main", "gpt-4o", "closed", "half_open");
    c.circuitChanged("openai-main", "gpt-4o", "closed", "closed");
    expect(types(alerts)).toEqual(["circuit_opened", "circuit_opened", "circuit_closed"]);
    expect(alerts[0]).toMatchObject({
      provider: "openai-main",
      model: "gpt-4o",
      message: "circuit of openai-main/gpt-4o opened (was closed)",
    });
    expect(alerts[2]?.message).toBe("circuit of openai-main/gpt-4o closed again");
  });

  it("stays quiet when circuitChanges is off", async () => {
    const {
      center: c,
      alerts,
      outbox,
    } = await center(openUsageDatabase(":memory:"), config({ circuitChanges: false }));
    c.circuitChanged("openai-main", "gpt-4o", "open", "closed");
    expect(alerts).toEqual([]);
    expect(outbox.pending()).toEqual([]);
  });
});

describe("AlertCenter error rate", () => {
  const ended = (c: AlertCenter, status: string): void => c.requestEnded("gpt-4o", status);

  it("fires once when the rate reaches the threshold with enough requests, and re-arms after it drops", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    for (let i = 0; i < 3; i++) ended(c, "unavailable");
    expect(alerts).toEqual([]); // 3 of 3 failed, but fewer than minRequests
    ended(c, "ok"); // 3 of 4
    expect(alerts).toMatchObject([
      { type: "error_rate", model: "gpt-4o", failed: 3, requests: 4, errorRate: 0.75, windowMs: 60_000 },
    ]);
    ended(c, "timeout");
    ended(c, "unavailable");
    expect(alerts).toHaveLength(1);
    for (let i = 0; i < 4; i++) ended(c, "ok"); // 5 of 10: still at the threshold
    expect(alerts).toHaveLength(1);
    ended(c, "ok"); // 5 of 11: below, re-armed
    ended(c, "rate_limited"); // 6 of 12: at the threshold again
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ failed: 6, requests: 12, errorRate: 0.5 });
  });

  it("does not count the caller's own failures", async () => {
    const { center: c, alerts } = await center(openUsageDatabase(":memory:"));
    for (const status of ["invalid_request", "cancelled", "context_length", "content_filter", "budget_exceeded", "ok"])
      ended(c, status);
    expect(alerts).toEqual([]);
  });

  it("forgets requests older than the window", async () => {
    const { center: c, alerts, clock } = await center(openUsageDatabase(":memory:"));
    for (let i = 0; i < 3; i++) ended(c, "unavailable");
    clock.t += 61_000;
    ended(c, "unavailable"); // the three before left the window: 1 request
    expect(alerts).toEqual([]);
    for (let i = 0; i < 3; i++) ended(c, "unavailable");
    expect(alerts).toHaveLength(1);
  });
});

describe("AlertCenter with a live dispatcher", () => {
  it("delivers a raised alert to the webhook", async () => {
    const s = await startWebhookServer();
    cleanups.push(() => s.close());
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    const webhooks = [{ url: s.url, headers: {}, timeoutMs: 1_000, maxAttempts: 3 }];
    const dispatcher = new WebhookDispatcher({ outbox, webhooks, baseDelayMs: 10 });
    cleanups.push(() => dispatcher.stop(500));
    const c = new AlertCenter({ config: config({ webhooks }), outbox, dispatcher });
    c.circuitChanged("anthropic", "claude-sonnet-4", "open", "closed");
    await s.waitFor(1);
    expect(JSON.parse(s.received[0]?.body ?? "{}")).toMatchObject({
      type: "circuit_opened",
      provider: "anthropic",
      model: "claude-sonnet-4",
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      time: expect.any(String),
    });
  });
});
