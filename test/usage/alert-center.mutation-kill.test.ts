// Kills mutants that survived `npm run test:mutation` in src/usage/alerts/alert-center.ts (see
// docs/testing.md, "Mutation testing").
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { AlertsConfig } from "../../src/config/cost-control-schema.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { AlertCenter } from "../../src/usage/alerts/alert-center.js";
import { AlertOutbox } from "../../src/usage/alerts/alert-outbox.js";
import type { AlertEnvelope } from "../../src/usage/alerts/alert.js";
import { WebhookDispatcher } from "../../src/usage/alerts/webhook-dispatcher.js";
import { openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";

function config(errorRate: AlertsConfig["errorRate"]): AlertsConfig {
  return { budgetThresholds: [80, 100], webhooks: [], errorRate, circuitChanges: true };
}

interface Center {
  center: AlertCenter;
  alerts: AlertEnvelope[];
  lines: Record<string, unknown>[];
  clock: { t: number };
}

/** An alert center without webhooks, a fake clock, and a logger whose lines are kept. */
async function center(
  errorRate: AlertsConfig["errorRate"],
  db: UsageDatabase = openUsageDatabase(":memory:"),
): Promise<Center> {
  const outbox = new AlertOutbox(db);
  const dispatcher = new WebhookDispatcher({ outbox, webhooks: [] });
  await dispatcher.stop(0);
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const alerts: AlertEnvelope[] = [];
  const clock = { t: 1_000_000 };
  const c = new AlertCenter({
    config: config(errorRate),
    outbox,
    dispatcher,
    logger: createLogger({ level: "info", destination }),
    onAlert: (a) => alerts.push(a),
    now: () => clock.t,
  });
  return { center: c, alerts, lines, clock };
}

describe("AlertCenter circuit changes, one at a time", () => {
  it("alerts when a half-open circuit closes, and not when a closed one reports closed", async () => {
    const s = await center({ threshold: 0.5, windowMs: 10_000, minRequests: 2 });
    s.center.circuitChanged("p", "m", "closed", "closed");
    expect(s.alerts).toEqual([]);
    s.center.circuitChanged("p", "m", "closed", "half_open");
    expect(s.alerts.map((a) => a.type)).toEqual(["circuit_closed"]);
  });
});

describe("AlertCenter error-rate window", () => {
  const errorRate = { threshold: 0.5, windowMs: 10_000, minRequests: 2 };

  it("says how many requests failed over how many seconds, and logs the alert", async () => {
    const s = await center(errorRate);
    s.center.requestEnded("m", "unavailable");
    s.center.requestEnded("m", "unavailable");
    expect(s.alerts).toHaveLength(1);
    expect(s.alerts[0]?.message).toBe("model m: 2 of 2 requests failed in the last 10 s");
    expect(s.lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        msg: "alert: model m: 2 of 2 requests failed in the last 10 s",
        alert: expect.objectContaining({ type: "error_rate", model: "m" }),
      }),
    );
  });

  it("forgets the requests of a second that left the window, however many ended in that second", async () => {
    const s = await center(errorRate);
    s.center.requestEnded("m", "unavailable");
    s.center.requestEnded("m", "unavailable"); // 2 of 2 in the same second: alert 1
    s.clock.t += 20_000;
    s.center.requestEnded("m", "ok"); // the two failures left: 0 of 1, re-armed
    s.center.requestEnded("m", "unavailable"); // 1 of 2: alert 2
    expect(s.alerts.map((a) => (a.type === "error_rate" ? `${a.failed}/${a.requests}` : a.type))).toEqual([
      "2/2",
      "1/2",
    ]);
    s.clock.t += 20_000;
    for (let i = 0; i < 3; i++) s.center.requestEnded("m", "ok"); // 0 of 3
    s.center.requestEnded("m", "unavailable"); // 1 of 4: below the threshold
    s.center.requestEnded("m", "unavailable"); // 2 of 5: below
    s.center.requestEnded("m", "unavailable"); // 3 of 6: alert 3
    expect(s.alerts.map((a) => (a.type === "error_rate" ? `${a.failed}/${a.requests}` : a.type))).toEqual([
      "2/2",
      "1/2",
      "3/6",
    ]);
  });

  it("keeps a second that is exactly windowMs old", async () => {
    const s = await center({ threshold: 0.5, windowMs: 10_000, minRequests: 3 });
    s.center.requestEnded("m", "unavailable");
    s.center.requestEnded("m", "unavailable");
    s.clock.t += 10_000;
    s.center.requestEnded("m", "ok"); // 2 of 3, the failures 10 s old still counted
    expect(s.alerts).toMatchObject([{ type: "error_rate", failed: 2, requests: 3 }]);
  });

  it("re-arms only once the rate is below the threshold, not at it", async () => {
    const s = await center(errorRate);
    s.center.requestEnded("m", "unavailable");
    s.center.requestEnded("m", "unavailable"); // 2 of 2: alert
    s.center.requestEnded("m", "ok");
    s.center.requestEnded("m", "ok"); // 2 of 4: at the threshold, still alerting
    s.center.requestEnded("m", "unavailable"); // 3 of 5
    expect(s.alerts).toHaveLength(1);
  });
});

describe("AlertCenter when the outbox fails", () => {
  it("logs that the alert could not be stored and still raises it", async () => {
    const db = openUsageDatabase(":memory:");
    const s = await center({ threshold: 0.5, windowMs: 10_000, minRequests: 2 }, db);
    db.close();
    s.center.circuitChanged("p", "m", "open", "closed");
    expect(s.lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: "alert could not be stored",
        alert: "circuit_opened",
        err: expect.objectContaining({ type: "TypeError" }),
      }),
    );
    expect(s.alerts.map((a) => a.type)).toEqual(["circuit_opened"]);
  });

  it("without a logger, still raises the alert", async () => {
    const db = openUsageDatabase(":memory:");
    const outbox = new AlertOutbox(db);
    const dispatcher = new WebhookDispatcher({ outbox, webhooks: [] });
    await dispatcher.stop(0);
    const alerts: AlertEnvelope[] = [];
    const c = new AlertCenter({
      config: config({ threshold: 0.5, windowMs: 10_000, minRequests: 2 }),
      outbox,
      dispatcher,
      onAlert: (a) => alerts.push(a),
    });
    db.close();
    c.circuitChanged("p", "m", "open", "closed");
    expect(alerts.map((a) => a.type)).toEqual(["circuit_opened"]);
  });
});
