import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminKey,
  bearer,
  chatRequest,
  createKey,
  settle,
  startWebhookReceiver,
  totalBudget,
  type WebhookReceiver,
} from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

let receiver: WebhookReceiver;
let stuck: http.Server;
let stuckUrl: string;
let h: Harness;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // A webhook that never answers: deliveries to it time out in the background.
  stuck = http.createServer(() => {});
  await new Promise<void>((resolve) => stuck.listen(0, "127.0.0.1", resolve));
  stuckUrl = `http://127.0.0.1:${(stuck.address() as AddressInfo).port}/hook`;
  h = await startHarness({
    adminKey,
    prices: { "gpt-4o": { input: 0, output: 10 } },
    providerDefaults: { circuitBreaker: { failureThreshold: 2, minRequests: 1000, openMs: 60_000 } },
    pipeline: { retry: { maxAttempts: 1 } },
    alerts: {
      webhooks: [{ url: receiver.url }, { url: stuckUrl, timeoutMs: 10_000 }],
      errorRate: { threshold: 0.5, windowMs: 60_000, minRequests: 4 },
    },
  });
});
afterAll(async () => {
  await h.close();
  await receiver.close();
  stuck.closeAllConnections();
  await new Promise<void>((resolve) => stuck.close(() => resolve()));
});

const types = (): unknown[] => receiver.bodies.map((b) => b["type"]);

describe("alerts through the gateway", () => {
  it("alert when a circuit opens and when a model's error rate crosses the threshold, once each", async () => {
    const { secret } = await createKey(h);
    h.emulator.setFault((request) => (request.api === "azure" ? { status: 500 } : undefined));
    for (let i = 0; i < 6; i++) await settle(h.grpc.chat(chatRequest(models.azure, "fail"), bearer(secret)));
    await receiver.waitFor(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(types().filter((t) => t === "circuit_opened")).toHaveLength(1);
    expect(types().filter((t) => t === "error_rate")).toHaveLength(1);
    expect(receiver.bodies.find((b) => b["type"] === "circuit_opened")).toMatchObject({
      provider: "azure-east",
      model: "gpt-4o",
    });
    expect(receiver.bodies.find((b) => b["type"] === "error_rate")).toMatchObject({
      model: models.azure,
      requests: 4,
      failed: 4,
    });
    h.emulator.setFault(undefined);
  });

  it("never make a request wait for a webhook that does not answer", async () => {
    const { secret } = await createKey(h, { budget: totalBudget(60n) });
    const started = performance.now();
    const answer = await h.grpc.chat(
      chatRequest(models.openai, "one two three four five six seven eight nine ten", 5),
      bearer(secret),
    );
    const tookMs = performance.now() - started;
    expect(answer.usage?.costMicros).toBe(50n);
    const deadline = Date.now() + 3_000;
    while (!receiver.bodies.some((b) => b["type"] === "budget_threshold") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(receiver.bodies.find((b) => b["type"] === "budget_threshold")).toMatchObject({
      thresholdPercent: 80,
      spentMicros: 50,
      limitMicros: 60,
    });
    expect(tookMs).toBeLessThan(2_000);
  });
});
