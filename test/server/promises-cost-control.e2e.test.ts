import { Writable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/logger.js";
import {
  adminKey,
  bearer,
  chatRequest,
  createKey,
  kindOf,
  settle,
  totalBudget,
} from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * README, "Keys, budgets and usage" and "Configuration": the promises about budgets, max_tokens and keys sent as
 * plain HTTP headers that the other cost-control tests do not pin down.
 */

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ adminKey, providerDefaults: { defaultMaxTokens: 77 } });
});
afterEach(() => {
  h.emulator.setFault(undefined);
  h.emulator.reset();
});
afterAll(() => h.close());

/** The max_tokens of the one upstream request the emulator saw. */
function upstreamMaxTokens(): unknown {
  expect(h.emulator.records).toHaveLength(1);
  const body = h.emulator.records[0]?.request.body as Record<string, unknown>;
  return body["max_tokens"];
}

describe("max_tokens sent upstream", () => {
  it("with a budget and no max_tokens, the first target's defaultMaxTokens is sent as the request's max_tokens", async () => {
    const budgeted = await createKey(h, { budget: totalBudget(1_000_000n) });
    await h.grpc.chat(chatRequest(models.openai, "bounded"), bearer(budgeted.secret));
    expect(upstreamMaxTokens()).toBe(77);
  });

  it("without a budget, an OpenAI request without max_tokens goes out without one", async () => {
    const open = await createKey(h);
    await h.grpc.chat(chatRequest(models.openai, "unbounded"), bearer(open.secret));
    expect(upstreamMaxTokens()).toBeUndefined();
  });

  it("Anthropic, which requires max_tokens, gets the provider's defaultMaxTokens when a request has none", async () => {
    const open = await createKey(h);
    await h.grpc.chat(chatRequest(models.anthropic, "needs a bound"), bearer(open.secret));
    expect(upstreamMaxTokens()).toBe(77);
  });

  it("a request's own max_tokens is sent as it is, budget or not", async () => {
    const budgeted = await createKey(h, { budget: totalBudget(1_000_000n) });
    await h.grpc.chat(chatRequest(models.openai, "own bound", 5), bearer(budgeted.secret));
    expect(upstreamMaxTokens()).toBe(5);
  });
});

describe("models without a known price", () => {
  it("reserve nothing and spend nothing, so a budget of 1 µ$ does not stop them; a priced model is refused", async () => {
    const { id, secret } = await createKey(h, { budget: totalBudget(1n) });
    for (let i = 0; i < 3; i++) {
      const answer = await h.grpc.chat(chatRequest(models.compatible, `unpriced ${i}`), bearer(secret));
      expect(answer.metadata?.costUnknown).toBe(true);
      expect(answer.usage?.costMicros).toBe(0n);
    }
    const listed = (await h.admin.listKeys({}, bearer(adminKey))).keys.find((k) => k.id === id);
    expect(listed?.spentMicros).toBe(0n);
    const priced = await settle(h.grpc.chat(chatRequest(models.openai, "priced"), bearer(secret)));
    expect("error" in priced && priced.error.code).toBe(Code.ResourceExhausted);
    expect("error" in priced && kindOf(priced.error)).toBe("budget_exceeded");
  });
});

describe("the client key as a plain HTTP header (README's curl example)", () => {
  const chatOverHttp = (headers: Record<string, string>) =>
    fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: models.openai, messages: [{ role: "ROLE_USER", content: "Hi" }] }),
    });

  it("is accepted as authorization: Bearer over Connect JSON / HTTP/1.1", async () => {
    const { secret } = await createKey(h);
    const response = await chatOverHttp({ authorization: `Bearer ${secret}` });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { message: { content: string } }).message.content).toBe("Echo: Hi");
  });

  it("is required: without it the call fails as unauthenticated and no provider is called", async () => {
    const response = await chatOverHttp({});
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe("unauthenticated");
    expect(h.emulator.records).toHaveLength(0);
  });
});

describe("metrics with client keys (README: 'logs, spans and metrics carry the key id and tenant, never the secret')", () => {
  it("label cost and token metrics with the key id and tenant when telemetry.metricsByTenant is on, never with the secret", async () => {
    const lines: Record<string, unknown>[] = [];
    const own = await startHarness({
      adminKey,
      telemetry: { prometheus: { enabled: true, host: "127.0.0.1", port: 0 }, metricsByTenant: true },
      logger: createLogger({
        level: "info",
        destination: new Writable({
          write(chunk: Buffer, _encoding, done) {
            for (const line of chunk.toString().split("\n"))
              if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
            done();
          },
        }),
      }),
    });
    try {
      const { id, secret } = await createKey(own, { tenant: "initech" });
      await own.grpc.chat(
        { ...chatRequest(models.openai, "metered"), metadata: { tenant: "not-this-one" } },
        bearer(secret),
      );
      const url = lines.find((l) => l["msg"] === "llm-gateway listening")?.["metrics"];
      const scrape = await (await fetch(String(url))).text();
      const keyed = scrape.split("\n").filter((l) => l.includes(`llm_gateway_key_id="${id}"`));
      expect(
        keyed.some((l) => l.startsWith("gen_ai_client_token_usage") && l.includes('llm_gateway_tenant="initech"')),
      ).toBe(true);
      expect(keyed.some((l) => /^llm_gateway_cost/.test(l))).toBe(true);
      expect(scrape).not.toContain("not-this-one");
      for (const value of [secret, secret.slice(6), adminKey]) expect(scrape).not.toContain(value);
    } finally {
      await own.close();
    }
  });
});
