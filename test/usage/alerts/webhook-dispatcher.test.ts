import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookConfig } from "../../../src/config/cost-control-schema.js";
import { AlertOutbox } from "../../../src/usage/alerts/alert-outbox.js";
import { WebhookDispatcher } from "../../../src/usage/alerts/webhook-dispatcher.js";
import { openUsageDatabase, type UsageDatabase } from "../../../src/usage/usage-database.js";
import { startWebhookServer, until, type WebhookServer } from "./webhook-server.js";

interface OutboxRow {
  id: number;
  webhook: string;
  attempts: number;
  delivered_at: number | null;
  failed_at: number | null;
}

const rows = (db: UsageDatabase): OutboxRow[] =>
  db
    .prepare("SELECT id, webhook, attempts, delivered_at, failed_at FROM alert_outbox ORDER BY id")
    .all() as OutboxRow[];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const hook = (url: string, overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url,
  headers: {},
  timeoutMs: 2_000,
  maxAttempts: 5,
  ...overrides,
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(status?: (index: number) => number): Promise<WebhookServer> {
  const s = await startWebhookServer(status);
  cleanups.push(() => s.close());
  return s;
}
function dispatcher(outbox: AlertOutbox, webhooks: WebhookConfig[], baseDelayMs = 10): WebhookDispatcher {
  const d = new WebhookDispatcher({ outbox, webhooks, baseDelayMs, maxDelayMs: 200 });
  cleanups.push(() => d.stop(500));
  return d;
}

describe("WebhookDispatcher", () => {
  it("POSTs the alert as JSON with the webhook's headers and marks it delivered", async () => {
    const s = await server();
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    const payload = JSON.stringify({
      type: "circuit_opened",
      provider: "openai-main",
      model: "gpt-4o",
      message: "opened",
    });
    expect(outbox.raise(undefined, [s.url], payload, 1_000)).toBe(true);
    const d = dispatcher(outbox, [hook(s.url, { headers: { authorization: "Bearer hook-secret" } })]);
    d.kick();
    await s.waitFor(1);
    const [request] = s.received;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/hooks/alerts?token=t0k");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["authorization"]).toBe("Bearer hook-secret");
    expect(JSON.parse(request?.body ?? "")).toEqual({
      type: "circuit_opened",
      provider: "openai-main",
      model: "gpt-4o",
      message: "opened",
    });
    await until(() => outbox.pending().length === 0);
    expect(rows(db)).toEqual([
      { id: 1, webhook: s.url, attempts: 1, delivered_at: expect.any(Number), failed_at: null },
    ]);
  });

  it("retries a 500 with growing delays and delivers exactly once", async () => {
    const s = await server((i) => (i < 2 ? 500 : 200));
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    outbox.raise("alert-1", [s.url], '{"n":1}', 1_000);
    dispatcher(outbox, [hook(s.url)], 20).kick();
    await s.waitFor(3);
    await sleep(150);
    expect(s.received.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(s.received.every((r) => r.body === '{"n":1}')).toBe(true);
    const [first, second, third] = s.received.map((r) => r.at);
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(15);
    expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(35);
    expect(rows(db)).toEqual([
      { id: 1, webhook: s.url, attempts: 3, delivered_at: expect.any(Number), failed_at: null },
    ]);
  });

  it("gives up after maxAttempts", async () => {
    const s = await server(() => 500);
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    outbox.raise(undefined, [s.url], "{}", 1_000);
    dispatcher(outbox, [hook(s.url, { maxAttempts: 3 })], 5).kick();
    await s.waitFor(3);
    await until(() => outbox.pending().length === 0);
    await sleep(100);
    expect(s.received).toHaveLength(3);
    expect(rows(db)).toEqual([
      { id: 1, webhook: s.url, attempts: 3, delivered_at: null, failed_at: expect.any(Number) },
    ]);
  });

  it("retries a webhook it cannot reach and gives up, without holding back another webhook", async () => {
    const s = await server();
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    outbox.raise(undefined, ["http://127.0.0.1:1/closed"], "{}", 1_000);
    outbox.raise(undefined, [s.url], '{"ok":true}', 1_000);
    dispatcher(outbox, [hook("http://127.0.0.1:1/closed", { maxAttempts: 2 }), hook(s.url)], 5).kick();
    await until(() => outbox.pending().length === 0);
    expect(rows(db).map((r) => [r.attempts, r.delivered_at === null, r.failed_at === null])).toEqual([
      [2, true, false],
      [1, false, true],
    ]);
  });

  it("gives up at once an entry whose webhook is no longer configured", async () => {
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    outbox.raise(undefined, ["http://127.0.0.1:1/removed"], "{}", 1_000);
    dispatcher(outbox, []).kick();
    await until(() => outbox.pending().length === 0);
    expect(rows(db)[0]?.failed_at).not.toBeNull();
  });

  it("delivers entries left pending by a previous process when kicked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llmgw-outbox-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "gateway.db");
    const s = await server();

    const before = openUsageDatabase(path);
    const oldOutbox = new AlertOutbox(before);
    oldOutbox.raise("budget|key:a|day|0|80", [s.url], '{"seq":1}', 1_000);
    oldOutbox.raise("budget|key:a|day|0|100", [s.url], '{"seq":2}', 1_001);
    oldOutbox.failedAttempt(1);
    before.close();
    expect(s.received).toHaveLength(0);

    const after = openUsageDatabase(path);
    cleanups.push(() => void after.close());
    const outbox = new AlertOutbox(after);
    expect(outbox.pending().map((e) => [e.id, e.attempts])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    dispatcher(outbox, [hook(s.url)]).kick();
    await s.waitFor(2);
    await until(() => outbox.pending().length === 0);
    expect(s.received.map((r) => r.body).sort()).toEqual(['{"seq":1}', '{"seq":2}']);
    expect(rows(after).map((r) => r.attempts)).toEqual([2, 1]);
  });

  it("does nothing once stopped", async () => {
    const s = await server();
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    const d = dispatcher(outbox, [hook(s.url)]);
    await d.stop(0);
    outbox.raise(undefined, [s.url], "{}", 1_000);
    d.kick();
    await sleep(50);
    expect(s.received).toHaveLength(0);
    expect(outbox.pending()).toHaveLength(1);
  });
});
