// Kills mutants that survived `npm run test:mutation` in src/usage/alerts/webhook-dispatcher.ts (see
// docs/testing.md, "Mutation testing").
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookConfig } from "../../src/config/cost-control-schema.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { AlertOutbox } from "../../src/usage/alerts/alert-outbox.js";
import { WebhookDispatcher, type WebhookDispatcherOptions } from "../../src/usage/alerts/webhook-dispatcher.js";
import { openUsageDatabase } from "../../src/usage/usage-database.js";
import { startWebhookServer, until, type WebhookServer } from "./alerts/webhook-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const hook = (url: string, overrides: Partial<WebhookConfig> = {}): WebhookConfig => ({
  url,
  headers: {},
  timeoutMs: 2_000,
  maxAttempts: 10,
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

interface Setup {
  outbox: AlertOutbox;
  dispatcher: WebhookDispatcher;
  lines: Record<string, unknown>[];
  delivered: () => boolean;
}

function setup(url: string, options: Partial<WebhookDispatcherOptions> & { webhooks: WebhookConfig[] }): Setup {
  const db = openUsageDatabase(":memory:");
  const outbox = new AlertOutbox(db);
  outbox.raise(undefined, [url], '{"type":"circuit_opened"}', 1_000);
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const dispatcher = new WebhookDispatcher({
    outbox,
    logger: createLogger({ level: "info", destination }),
    ...options,
  });
  cleanups.push(() => dispatcher.stop(500));
  const delivered = (): boolean =>
    (db.prepare("SELECT delivered_at FROM alert_outbox WHERE id = 1").get() as { delivered_at: number | null })
      .delivered_at !== null;
  return { outbox, dispatcher, lines, delivered };
}

const withMsg = (lines: Record<string, unknown>[], msg: string): Record<string, unknown>[] =>
  lines.filter((l) => l["msg"] === msg);

describe("WebhookDispatcher retries", () => {
  it("backs off exponentially from baseDelayMs up to maxDelayMs, and logs each failure with the webhook's origin only", async () => {
    const s = await server((i) => (i < 3 ? 500 : 204));
    const d = setup(s.url, { webhooks: [hook(s.url)], baseDelayMs: 20, maxDelayMs: 40 });
    d.dispatcher.kick();
    await until(() => d.outbox.pending().length === 0);
    const failures = withMsg(d.lines, "alert delivery failed; will retry");
    expect(failures.map((l) => l["retryInMs"])).toEqual([20, 40, 40]);
    expect(failures.map((l) => l["attempts"])).toEqual([1, 2, 3]);
    for (const line of failures)
      expect(line).toMatchObject({ level: 40, alertId: 1, webhook: new URL(s.url).origin, failure: "HTTP 500" });
    expect(s.received).toHaveLength(4);
  });

  it("does not retry early when kicked during the backoff (a new alert was raised)", async () => {
    const s = await server((i) => (i < 1 ? 500 : 204));
    const d = setup(s.url, { webhooks: [hook(s.url)], baseDelayMs: 400, maxDelayMs: 400 });
    d.dispatcher.kick();
    await s.waitFor(1);
    await until(() => withMsg(d.lines, "alert delivery failed; will retry").length === 1);
    d.dispatcher.kick();
    await sleep(150);
    expect(s.received).toHaveLength(1);
    await s.waitFor(2);
    expect((s.received[1]?.at ?? 0) - (s.received[0]?.at ?? 0)).toBeGreaterThanOrEqual(350);
  });

  it("POSTs an entry once when kicked again while it is being delivered", async () => {
    const s = await server();
    const d = setup(s.url, { webhooks: [hook(s.url)] });
    d.dispatcher.kick();
    d.dispatcher.kick();
    await until(d.delivered);
    await sleep(50);
    expect(s.received).toHaveLength(1);
  });

  it("logs giving up after maxAttempts", async () => {
    const s = await server(() => 500);
    const d = setup(s.url, { webhooks: [hook(s.url, { maxAttempts: 2 })], baseDelayMs: 5 });
    d.dispatcher.kick();
    await until(() => d.outbox.pending().length === 0);
    expect(withMsg(d.lines, "alert delivery gave up")).toEqual([
      expect.objectContaining({
        level: 50,
        alertId: 1,
        webhook: new URL(s.url).origin,
        attempts: 2,
        failure: "HTTP 500",
      }),
    ]);
  });

  it("names the error of a webhook it cannot reach", async () => {
    const url = "http://127.0.0.1:9/alerts";
    const d = setup(url, { webhooks: [hook(url, { maxAttempts: 1 })] });
    d.dispatcher.kick();
    await until(() => d.outbox.pending().length === 0);
    expect(withMsg(d.lines, "alert delivery gave up")).toEqual([
      expect.objectContaining({ failure: "TypeError", webhook: "http://127.0.0.1:9" }),
    ]);
  });

  it("logs dropping an entry whose webhook is no longer configured", () => {
    const d = setup("http://127.0.0.1:9/removed", { webhooks: [] });
    d.dispatcher.kick();
    expect(withMsg(d.lines, "alert dropped: its webhook is no longer configured")).toEqual([
      expect.objectContaining({ level: 40, alertId: 1 }),
    ]);
    expect(d.outbox.pending()).toEqual([]);
  });
});

describe("WebhookDispatcher.stop", () => {
  it("waits for a delivery under way", async () => {
    const s = await server();
    const d = setup(s.url, { webhooks: [hook(s.url)] });
    d.dispatcher.kick();
    await d.dispatcher.stop(2_000);
    expect(d.delivered()).toBe(true);
  });
});
