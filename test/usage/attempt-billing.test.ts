import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../src/providers/call-context.js";
import { billAttempt } from "../../src/usage/attempt-billing.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { tokens } from "./ledger-fixtures.js";

const prices = new PriceTable();
const zero = tokens(0, 0);

/** An attempt on openai/gpt-4o (input 2.5e6, output 1e7 pico-USD per token). */
function attempt(overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    type: "attempt",
    provider: "openai-main",
    providerType: "openai",
    model: "gpt-4o",
    operation: "chat",
    stream: false,
    startedAt: 100,
    endedAt: 350,
    chunks: 0,
    ...overrides,
  };
}

const bill = (record: AttemptRecord, promptEstimate = 200, deliveredTokens = 0) =>
  billAttempt({ record, promptEstimate, deliveredTokens }, prices);

describe("billAttempt", () => {
  it("bills reported usage at the model's price", () => {
    expect(bill(attempt({ usage: tokens(1000, 100), finishReason: "stop" }))).toEqual({
      provider: "openai-main",
      model: "gpt-4o",
      startedAt: 100,
      endedAt: 350,
      status: "ok",
      billed: true,
      usage: tokens(1000, 100),
      costPicos: 1000n * 2_500_000n + 100n * 10_000_000n,
      costUnknown: false,
      estimated: false,
    });
  });

  it("prices by the answering model before the requested one", () => {
    const billed = bill(
      attempt({
        providerType: "azure",
        model: "my-deployment",
        responseModel: "gpt-4o-mini-2024-07-18",
        usage: tokens(1000, 0),
      }),
    );
    expect(billed.costPicos).toBe(1000n * 150_000n);
    expect(billed.costUnknown).toBe(false);
    const fallback = bill(attempt({ responseModel: "some-new-name", usage: tokens(1000, 0) }));
    expect(fallback.costPicos).toBe(1000n * 2_500_000n);
  });

  it("marks reported usage on a model without a price as cost unknown, still billed", () => {
    const billed = bill(attempt({ providerType: "openai-compatible", model: "llama-3", usage: tokens(10, 10) }));
    expect(billed).toMatchObject({
      billed: true,
      costPicos: 0n,
      costUnknown: true,
      estimated: false,
      usage: tokens(10, 10),
    });
  });

  it("estimates a stream cut after chunks: prompt estimate plus delivered tokens", () => {
    const record = attempt({ stream: true, chunks: 4, error: { kind: "unavailable", message: "stream cut" } });
    expect(bill(record, 200, 37)).toMatchObject({
      status: "unavailable",
      billed: true,
      usage: tokens(200, 37),
      costPicos: 200n * 2_500_000n + 37n * 10_000_000n,
      costUnknown: false,
      estimated: true,
    });
  });

  it("estimates a stream that finished without usage", () => {
    const record = attempt({ stream: true, chunks: 2, usage: { ...zero, missing: true }, finishReason: "stop" });
    expect(bill(record, 80, 12)).toMatchObject({
      status: "ok",
      billed: true,
      usage: tokens(80, 12),
      estimated: true,
      costUnknown: false,
    });
  });

  it("bills a unary answer without usage as cost unknown with zero tokens", () => {
    const billed = bill(attempt({ usage: { ...zero, missing: true }, finishReason: "stop" }));
    expect(billed).toMatchObject({
      status: "ok",
      billed: true,
      usage: zero,
      costPicos: 0n,
      costUnknown: true,
      estimated: false,
    });
  });

  it("bills a timeout or a cancel by the prompt estimate", () => {
    for (const kind of ["timeout", "cancelled"] as const) {
      const billed = bill(attempt({ error: { kind, message: kind } }), 300);
      expect(billed).toMatchObject({
        status: kind,
        billed: true,
        usage: tokens(300, 0),
        costPicos: 300n * 2_500_000n,
        estimated: true,
      });
    }
    const streamed = bill(
      attempt({ stream: true, chunks: 0, error: { kind: "timeout", message: "first byte" } }),
      300,
      0,
    );
    expect(streamed).toMatchObject({ billed: true, usage: tokens(300, 0), estimated: true });
  });

  it("does not bill an HTTP error or a refusal before sending", () => {
    for (const kind of ["unavailable", "rate_limited", "invalid_request", "circuit_open", "internal"] as const) {
      expect(bill(attempt({ error: { kind, message: "HTTP error" } }))).toEqual({
        provider: "openai-main",
        model: "gpt-4o",
        startedAt: 100,
        endedAt: 350,
        status: kind,
        billed: false,
        usage: zero,
        costPicos: 0n,
        costUnknown: false,
        estimated: false,
      });
    }
    expect(bill(attempt({ stream: true, chunks: 0, error: { kind: "unavailable", message: "503" } })).billed).toBe(
      false,
    );
  });
});
