import { describe, expect, it } from "vitest";
import type { TokenUsage } from "../../src/providers/provider.js";
import { PriceTable } from "../../src/usage/price-table.js";

function usage(prompt: number, completion: number, cached = 0, written = 0): TokenUsage {
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: prompt + completion,
    cachedPromptTokens: cached,
    cacheWriteTokens: written,
  };
}

describe("PriceTable", () => {
  const table = new PriceTable();

  it("prices gpt-4o at $2.50 / $10 per million tokens, in integer micro-dollars", () => {
    const cost = table.cost("openai", ["gpt-4o"], usage(1_000_000, 100_000));
    expect(cost).toEqual({ known: true, micros: 3_500_000n, picos: 3_500_000_000_000n });
  });

  it("keeps sub-micro amounts exact in picos and rounds micros half up", () => {
    const cost = table.cost("openai", ["gpt-4o-mini"], usage(3, 1));
    expect(cost.picos).toBe(3n * 150_000n + 600_000n);
    expect(cost.micros).toBe(1n);
  });

  it("matches a dated model name to its longest listed prefix", () => {
    expect(table.cost("openai", ["gpt-4o-mini-2024-07-18"], usage(1_000_000, 0)).micros).toBe(150_000n);
    expect(table.cost("openai", ["gpt-4o-2024-08-06"], usage(1_000_000, 0)).micros).toBe(2_500_000n);
    expect(table.cost("anthropic", ["claude-sonnet-4-20250514"], usage(0, 1_000_000)).micros).toBe(15_000_000n);
    expect(table.cost("anthropic", ["claude-sonnet-4-5-20250929"], usage(0, 1_000_000)).micros).toBe(15_000_000n);
  });

  it("bills cached and cache-write tokens at their own prices", () => {
    // 1M prompt tokens of which 400k cache reads and 100k cache writes on Claude Sonnet 4.
    const cost = table.cost("anthropic", ["claude-sonnet-4"], usage(1_000_000, 0, 400_000, 100_000));
    expect(cost.micros).toBe(500_000n * 3n + (400_000n * 3n) / 10n + (100_000n * 375n) / 100n);
  });

  it("uses OpenAI prices for Azure deployments and the answering model before the requested one", () => {
    expect(table.cost("azure", ["my-deployment", "gpt-4o"], usage(1_000_000, 0)).micros).toBe(2_500_000n);
  });

  it("says when a model has no price instead of guessing", () => {
    expect(table.cost("openai-compatible", ["meta-llama/Llama-3.1-8B-Instruct"], usage(1000, 1000))).toEqual({
      known: false,
      micros: 0n,
      picos: 0n,
    });
    expect(table.cost("openai", ["gpt-unknown"], usage(10, 10)).known).toBe(false);
  });

  it("lets config prices override and extend the shipped table", () => {
    const custom = new PriceTable({
      "gpt-4o": { input: 1, output: 2 },
      "meta-llama/Llama-3.1-8B-Instruct": { input: 0.05, output: 0.08 },
    });
    expect(custom.cost("openai", ["gpt-4o"], usage(1_000_000, 1_000_000)).micros).toBe(3_000_000n);
    expect(
      custom.cost("openai-compatible", ["meta-llama/Llama-3.1-8B-Instruct"], usage(1_000_000, 1_000_000)).micros,
    ).toBe(130_000n);
  });

  it("adds many tiny requests without drift", () => {
    let picos = 0n;
    for (let i = 0; i < 10_000; i++) picos += table.cost("openai", ["gpt-4o-mini"], usage(7, 3)).picos;
    expect(picos).toBe(10_000n * (7n * 150_000n + 3n * 600_000n));
  });
});
