import { describe, expect, it } from "vitest";
import { PriceTable } from "../../src/usage/price-table.js";
import { tokens } from "./ledger-fixtures.js";

const table = new PriceTable();
const million = tokens(1_000_000, 1_000_000);

describe("PriceTable model names", () => {
  it("knows o3 and its dated snapshot, but not o3-pro", () => {
    const o3 = table.cost("openai", ["o3"], million);
    expect(o3).toEqual({ known: true, micros: 10_000_000n, picos: 10_000_000_000_000n });
    expect(table.cost("openai", ["o3-2025-04-16"], million)).toEqual(o3);
    expect(table.cost("openai", ["o3-pro"], million)).toEqual({ known: false, micros: 0n, picos: 0n });
    expect(table.cost("openai", ["o3-pro-2025-06-10"], million).known).toBe(false);
  });

  it("prices gpt-4o-2024-08-06 as gpt-4o", () => {
    const snapshot = table.cost("openai", ["gpt-4o-2024-08-06"], million);
    expect(snapshot).toEqual(table.cost("openai", ["gpt-4o"], million));
    expect(snapshot.micros).toBe(12_500_000n);
    expect(table.cost("azure", ["gpt-4o-2024-08-06"], million).micros).toBe(12_500_000n);
  });

  it("gives gpt-4o-mini its own price, not gpt-4o's", () => {
    const mini = table.cost("openai", ["gpt-4o-mini"], million);
    expect(mini).toEqual({ known: true, micros: 750_000n, picos: 750_000_000_000n });
    expect(mini.micros).not.toBe(table.cost("openai", ["gpt-4o"], million).micros);
  });

  it("prices claude-sonnet-4-20250514 as claude-sonnet-4", () => {
    const snapshot = table.cost("anthropic", ["claude-sonnet-4-20250514"], million);
    expect(snapshot).toEqual(table.cost("anthropic", ["claude-sonnet-4"], million));
    expect(snapshot.micros).toBe(18_000_000n);
    // Anthropic models are not on OpenAI's list.
    expect(table.cost("openai", ["claude-sonnet-4-20250514"], million).known).toBe(false);
  });

  it("does not strip a suffix that is not a date", () => {
    expect(table.cost("openai", ["gpt-4o-preview"], million).known).toBe(false);
    expect(table.cost("openai", ["gpt-4o-0613"], million).known).toBe(true);
    expect(table.cost("openai", ["gpt-4o-latest"], million).known).toBe(true);
  });
});

describe("PriceTable rounding", () => {
  it("rounds a remainder of exactly 500_000 picos up", () => {
    // gpt-4o-mini input: 150_000 picos per token; 10 tokens = 1_500_000 picos.
    const cost = table.cost("openai", ["gpt-4o-mini"], tokens(10, 0));
    expect(cost.picos).toBe(1_500_000n);
    expect(cost.micros).toBe(2n);
  });

  it("rounds a remainder of 499_999 picos down", () => {
    const custom = new PriceTable({
      "odd-model": { input: 0.499999, output: 0 },
      "half-model": { input: 0.5, output: 0 },
    });
    const down = custom.cost("openai-compatible", ["odd-model"], tokens(1, 0));
    expect(down).toEqual({ known: true, picos: 499_999n, micros: 0n });
    const downAgain = custom.cost("openai-compatible", ["odd-model"], tokens(3, 0));
    expect(downAgain).toEqual({ known: true, picos: 1_499_997n, micros: 1n });
    expect(custom.cost("openai-compatible", ["half-model"], tokens(1, 0))).toEqual({
      known: true,
      picos: 500_000n,
      micros: 1n,
    });
  });
});
