import { Code } from "@connectrpc/connect";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { UsageGroupBy } from "../../gen/llm/v1/admin_service_pb.js";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { chat as grpcJsChat, grpcJsClients } from "../support/grpc-js-client.js";
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

const words = "one two three four five six seven eight nine ten";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    adminKey,
    extraModels: [{ name: "cut", routing: { midStream: "error" }, targets: [{ provider: "openai", model: "gpt-4o" }] }],
  });
});
afterEach(() => {
  h.emulator.setFault(undefined);
  h.emulator.reset();
});
afterAll(() => h.close());

describe("client keys through the gateway", () => {
  it("refuses a call without a key or with an unknown key with UNAUTHENTICATED, and calls no provider", async () => {
    const none = await settle(h.grpc.chat(chatRequest(models.openai, "hi")));
    const wrong = await settle(h.grpc.chat(chatRequest(models.openai, "hi"), bearer("llmgw_not-a-key")));
    const notBearer = await settle(
      h.connectJson.chat(chatRequest(models.openai, "hi"), { headers: { authorization: "Basic abc" } }),
    );
    for (const outcome of [none, wrong, notBearer]) {
      expect("error" in outcome && outcome.error.code).toBe(Code.Unauthenticated);
    }
    expect("error" in wrong && wrong.error.rawMessage).not.toContain("llmgw_not-a-key");
    // The hint says how to send a key, whole: the credential scrubber leaves the scheme and the placeholder.
    expect("error" in none && none.error.rawMessage).toBe("a client key is required: send authorization: Bearer <key>");
    const stream = await settle(
      (async () => {
        for await (const chunk of h.grpc.streamChat(chatRequest(models.anthropic, "hi"))) void chunk;
      })(),
    );
    expect("error" in stream && stream.error.code).toBe(Code.Unauthenticated);
    expect(h.emulator.records).toHaveLength(0);
  });

  it("serves a valid key from a plain grpc-js client, the tenant coming from the key, not from metadata", async () => {
    const { id, secret } = await createKey(h, { tenant: "tenant-a" });
    const clients = grpcJsClients(new URL(h.gateway.url).host);
    try {
      const metadata = new Metadata();
      metadata.set("authorization", `Bearer ${secret}`);
      const request = {
        model: models.openai,
        messages: [{ role: "ROLE_USER", content: "hello" }],
        metadata: { tenant: "forged" },
      };
      const answer = await grpcJsChat(clients.llm, request, {}, metadata);
      expect((answer["message"] as { content: string }).content).toBe("Echo: hello");
    } finally {
      clients.close();
    }
    const usage = await h.admin.getUsage({ keyId: id, groupBy: [UsageGroupBy.TENANT] }, bearer(adminKey));
    expect(usage.rows.map((r) => [r.tenant, r.requests])).toEqual([["tenant-a", 1n]]);
  });

  it("refuses a model the key may not use with PERMISSION_DENIED, and allows its own", async () => {
    const { secret } = await createKey(h, { models: [models.anthropic] });
    const denied = await settle(h.grpc.chat(chatRequest(models.openai, "hi"), bearer(secret)));
    expect("error" in denied && denied.error.code).toBe(Code.PermissionDenied);
    expect(h.emulator.records).toHaveLength(0);
    const allowed = await h.grpc.chat(chatRequest(models.anthropic, "hi"), bearer(secret));
    expect(allowed.message?.content).toBe("Echo: hi");
  });

  it("fails a revoked key at once, also on the connection that used it before", async () => {
    const { id, secret } = await createKey(h);
    expect((await h.grpc.chat(chatRequest(models.openai, "before"), bearer(secret))).message?.content).toBe(
      "Echo: before",
    );
    await h.admin.revokeKey({ id }, bearer(adminKey));
    h.emulator.reset();
    const after = await settle(h.grpc.chat(chatRequest(models.openai, "after"), bearer(secret)));
    expect("error" in after && after.error.code).toBe(Code.Unauthenticated);
    expect(h.emulator.records).toHaveLength(0);
    const listed = await h.admin.listKeys({ includeRevoked: true }, bearer(adminKey));
    expect(listed.keys.find((k) => k.id === id)?.revoked).toBe(true);
    expect((await h.admin.listKeys({}, bearer(adminKey))).keys.some((k) => k.id === id)).toBe(false);
  });

  it("takes the admin key only on the admin API, and never shows a secret again", async () => {
    const { secret } = await createKey(h);
    const asClient = await settle(h.admin.listKeys({}, bearer(secret)));
    expect("error" in asClient && asClient.error.code).toBe(Code.Unauthenticated);
    const asAdmin = await settle(h.grpc.chat(chatRequest(models.openai, "hi"), bearer(adminKey)));
    expect("error" in asAdmin && asAdmin.error.code).toBe(Code.Unauthenticated);
    const listed = await h.admin.listKeys({}, bearer(adminKey));
    expect(
      JSON.stringify(listed.keys.map((k) => ({ ...k, createTime: undefined, spentMicros: String(k.spentMicros) }))),
    ).not.toContain(secret);
    expect(listed.keys.every((k) => k.secretPrefix.startsWith("llmgw_") && k.secretPrefix.length < 16)).toBe(true);
  });
});

describe("per-key rate limits", () => {
  it("limit each key by its own RPM, whatever x-client-id says, and leave other keys alone", async () => {
    const limited = await createKey(h, { requestsPerMinute: 2 });
    const other = await createKey(h);
    const call = (secret: string, client: string) =>
      settle(
        h.grpc.chat(chatRequest(models.openai, "hi"), {
          headers: { authorization: `Bearer ${secret}`, "x-client-id": client },
          timeoutMs: 300,
        }),
      );
    const outcomes = [
      await call(limited.secret, "a"),
      await call(limited.secret, "b"),
      await call(limited.secret, "c"),
    ];
    expect(outcomes.map((o) => ("ok" in o ? "ok" : `${o.error.code}:${kindOf(o.error)}`))).toEqual([
      "ok",
      "ok",
      `${Code.ResourceExhausted}:queue_full`,
    ]);
    expect("ok" in (await call(other.secret, "a"))).toBe(true);
  });
});

describe("budgets through the gateway", () => {
  it("never lets 64 concurrent calls overspend a budget that allows 10 answers, and leaves less than one answer unused", async () => {
    const probe = await createKey(h);
    const one = await h.grpc.chat(chatRequest(models.openai, words, 5), bearer(probe.secret));
    const answer = one.usage?.costMicros ?? 0n;
    expect(answer).toBeGreaterThan(0n);
    const limit = answer * 10n;
    const { id, secret } = await createKey(h, { budget: totalBudget(limit) });
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, () => settle(h.grpc.chat(chatRequest(models.openai, words, 5), bearer(secret)))),
    );
    const answered = outcomes.flatMap((o) => ("ok" in o ? [o.ok] : []));
    const refused = outcomes.flatMap((o) => ("error" in o ? [o.error] : []));
    const spent = answered.reduce((sum, r) => sum + (r.usage?.costMicros ?? 0n), 0n);
    expect(spent).toBeLessThanOrEqual(limit);
    expect(answered.length).toBeGreaterThanOrEqual(9);
    expect(refused.every((e) => e.code === Code.ResourceExhausted && kindOf(e) === "budget_exceeded")).toBe(true);
    expect(refused[0]?.rawMessage).toMatch(/key key_[0-9a-f]+ \("svc"\) has a total budget of \$0\.0009/);
    const key = (await h.admin.listKeys({}, bearer(adminKey))).keys.find((k) => k.id === id);
    expect(key?.spentMicros).toBe(spent);
    expect(limit - spent).toBeLessThanOrEqual(answer);
    const after = await settle(h.grpc.chat(chatRequest(models.openai, words, 5), bearer(secret)));
    expect("error" in after && kindOf(after.error)).toBe("budget_exceeded");
  });

  it("checks the tenant's budget together with the key's", async () => {
    const tenant = `tenant-${Date.now()}`;
    const first = await createKey(h, { tenant });
    const second = await createKey(h, { tenant });
    const one = await h.grpc.chat(chatRequest(models.openai, words, 5), bearer(first.secret));
    const answer = one.usage?.costMicros ?? 0n;
    // The tenant spent one answer already; a reservation (prompt estimate + max_tokens) is a little more than an
    // answer, so a budget of 4 answers takes 2 more and refuses the next, whichever key asks.
    await h.admin.setTenantBudget({ tenant, budget: totalBudget(answer * 4n) }, bearer(adminKey));
    const results = [];
    for (const key of [first, second, first, second])
      results.push(await settle(h.grpc.chat(chatRequest(models.openai, words, 5), bearer(key.secret))));
    expect(results.map((r) => ("ok" in r ? "ok" : kindOf(r.error)))).toEqual([
      "ok",
      "ok",
      "budget_exceeded",
      "budget_exceeded",
    ]);
    const refusal = results[2];
    expect(refusal && "error" in refusal && refusal.error.rawMessage).toMatch(
      new RegExp(`tenant ${tenant} has a total budget`),
    );
    const listed = await h.admin.listTenantBudgets({}, bearer(adminKey));
    expect(listed.tenantBudgets.find((t) => t.tenant === tenant)?.spentMicros).toBe(answer * 3n);
  });
});

describe("the usage ledger through the gateway", () => {
  it("reports a key's cost as the sum of its answers' cost_micros, streams and retries included", async () => {
    const { id, secret } = await createKey(h);
    let sum = 0n;
    for (const content of ["alpha", "beta gamma", words]) {
      sum += (await h.grpc.chat(chatRequest(models.openai, content), bearer(secret))).usage?.costMicros ?? 0n;
      sum += (await h.grpc.chat(chatRequest(models.anthropic, content), bearer(secret))).usage?.costMicros ?? 0n;
      for await (const chunk of h.grpc.streamChat(chatRequest(models.azure, content), bearer(secret)))
        sum += chunk.usage?.costMicros ?? 0n;
    }
    let openaiCalls = 0;
    h.emulator.setFault((request) => (request.api === "openai" && ++openaiCalls === 1 ? { status: 503 } : undefined));
    const retried = await h.grpc.chat(chatRequest(models.openai, "retried"), bearer(secret));
    expect(retried.metadata?.attempts).toBe(2);
    sum += retried.usage?.costMicros ?? 0n;
    const usage = await h.admin.getUsage({ keyId: id }, bearer(adminKey));
    expect(usage.rows).toHaveLength(1);
    expect(usage.rows[0]?.costMicros).toBe(sum);
    expect(usage.rows[0]?.requests).toBe(10n);
    expect(usage.rows[0]?.failedRequests).toBe(0n);
    const byModel = await h.admin.getUsage({ keyId: id, groupBy: [UsageGroupBy.MODEL] }, bearer(adminKey));
    expect(byModel.rows.map((r) => [r.model, r.requests])).toEqual([
      [models.azure, 3n],
      [models.anthropic, 3n],
      [models.openai, 4n],
    ]);
  });

  it("records a stream cut mid-way with the tokens it produced and their cost", async () => {
    const { id, secret } = await createKey(h);
    h.emulator.setFault({ dropAfterChunks: 4 });
    let delivered = "";
    const outcome = await settle(
      (async () => {
        for await (const chunk of h.grpc.streamChat(
          { ...chatRequest("cut", words), messages: [{ role: Role.USER, content: words }] },
          bearer(secret),
        ))
          delivered += chunk.delta;
      })(),
    );
    expect("error" in outcome && outcome.error.code).toBe(Code.Unavailable);
    expect(delivered.length).toBeGreaterThan(0);
    const [row] = (await h.admin.getUsage({ keyId: id }, bearer(adminKey))).rows;
    expect(row?.requests).toBe(1n);
    expect(row?.failedRequests).toBe(1n);
    expect(row?.estimatedRequests).toBe(1n);
    expect(row?.completionTokens).toBeGreaterThanOrEqual(4n);
    expect(row?.promptTokens).toBeGreaterThan(10n);
    expect(row?.costMicros).toBeGreaterThan(0n);
    expect(row?.costUnknownRequests).toBe(0n);
  });

  it("records a request the client cancelled mid-stream", async () => {
    const { id, secret } = await createKey(h);
    h.emulator.setFault({ chunkDelayMs: 20 });
    const abort = new AbortController();
    let chunks = 0;
    await settle(
      (async () => {
        for await (const chunk of h.grpc.streamChat(chatRequest(models.openai, words), {
          ...bearer(secret),
          signal: abort.signal,
        })) {
          if (chunk.delta !== "" && ++chunks === 3) abort.abort();
        }
      })(),
    );
    const deadline = Date.now() + 2_000;
    let rows = (await h.admin.getUsage({ keyId: id }, bearer(adminKey))).rows;
    while (rows.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      rows = (await h.admin.getUsage({ keyId: id }, bearer(adminKey))).rows;
    }
    expect(rows[0]?.requests).toBe(1n);
    expect(rows[0]?.failedRequests).toBe(1n);
    expect(rows[0]?.completionTokens).toBeGreaterThanOrEqual(3n);
    expect(rows[0]?.costMicros).toBeGreaterThan(0n);
  });
});
