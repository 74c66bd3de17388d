import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema, Role } from "../../../gen/llm/v1/llm_service_pb.js";
import { models, startHarness, type Harness } from "../../support/gateway-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    providerDefaults: { rateLimit: { requestsPerMinute: 2 } },
    pipeline: {
      retry: { maxAttempts: 1 },
      rateLimiting: { perClient: { requestsPerMinute: 1 }, queue: { maxDepth: 4, maxWaitMs: 30_000 } },
    },
  });
});
afterAll(() => h.close());

const messages = [{ role: Role.USER, content: "hi" }];

async function outcome(run: () => Promise<unknown>): Promise<ConnectError | undefined> {
  return run().then(
    () => undefined,
    (error: unknown) => ConnectError.from(error),
  );
}

describe("rate limits through the gateway", () => {
  it("limits each client by its identity header, fails fast with a retry delay when the deadline cannot be met", async () => {
    const asA = { headers: { "x-client-id": "team-a" }, timeoutMs: 2_000 };
    expect(await outcome(() => h.grpc.chat({ model: models.azure, messages }, asA))).toBeUndefined();
    const started = Date.now();
    const refused = await outcome(() => h.grpc.chat({ model: models.azure, messages }, asA));
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(refused?.code).toBe(Code.ResourceExhausted);
    const [detail] = refused?.findDetails(ErrorDetailSchema) ?? [];
    expect(detail?.kind).toBe("queue_full");
    expect(Number(detail?.retryAfterMs)).toBeGreaterThan(1_000);
    expect(refused?.rawMessage).not.toContain("team-a");
    // Another client, and a caller without identity, are not held back by team-a's limit.
    expect(
      await outcome(() => h.grpc.chat({ model: models.azure, messages }, { headers: { "x-client-id": "team-b" } })),
    ).toBeUndefined();
    expect(await outcome(() => h.grpc.chat({ model: models.anthropic, messages }))).toBeUndefined();
  });

  it("holds a provider to its requests per minute and shows the headroom in ListProviders", async () => {
    expect(await outcome(() => h.grpc.chat({ model: models.openai, messages }))).toBeUndefined();
    expect(await outcome(() => h.grpc.chat({ model: models.openai, messages }))).toBeUndefined();
    const { providers } = await h.grpc.listProviders({});
    expect(providers.find((p) => p.name === "openai")?.rateLimit).toMatchObject({
      requestsPerMinute: 2,
      requestsRemaining: 0n,
      queued: 0,
    });
    const before = h.emulator.records.length;
    const third = await outcome(() => h.grpc.chat({ model: models.openai, messages }, { timeoutMs: 1_000 }));
    expect(third?.code).toBe(Code.ResourceExhausted);
    expect(h.emulator.records.length).toBe(before);
  });

  it("queues a request over the limit instead of failing it when its deadline allows the wait", async () => {
    const own = await startHarness({
      pipeline: { rateLimiting: { perClient: { requestsPerMinute: 1 }, queue: { maxWaitMs: 120_000 } } },
    });
    try {
      const asC = { headers: { "x-client-id": "team-c" } };
      await own.grpc.chat({ model: models.openai, messages }, asC);
      const controller = new AbortController();
      const pending = outcome(() =>
        own.grpc.chat({ model: models.openai, messages }, { ...asC, signal: controller.signal }),
      );
      const raced = await Promise.race([
        pending.then(() => "settled"),
        new Promise((r) => setTimeout(() => r("waiting"), 300)),
      ]);
      expect(raced).toBe("waiting");
      const { providers } = await own.grpc.listProviders({});
      expect(providers.find((p) => p.name === "openai")?.rateLimit?.queued).toBe(0);
      controller.abort();
      expect((await pending)?.code).toBe(Code.Canceled);
      expect(own.emulator.records).toHaveLength(1);
    } finally {
      await own.close();
    }
  });
});
