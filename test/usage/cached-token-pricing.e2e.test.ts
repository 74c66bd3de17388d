import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role, type Usage } from "../../gen/llm/v1/llm_service_pb.js";
import { chatPromptTokens } from "../../src/emulator/emulator-tokens.js";
import type { Fault } from "../../src/emulator/fault.js";
import prices from "../../src/usage/prices.json" with { type: "json" };
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * Cached prompt tokens reported by the provider reach the answer's usage and are billed at the model's
 * cached-input price (Anthropic's cache writes at its cache-write price), through the real gateway: adapter,
 * attempt billing, the price table and the wire conversion.
 */

const content = Array.from({ length: 201 }, (_, i) => `w${i}`).join(" ");
/** 3 per conversation + 3 for the message + 201 words (the emulator's tokenizer). */
const promptTokens = chatPromptTokens([content]);
const maxTokens = 7;
const cachedTokens = 128;
const cacheWriteTokens = 40;

/** A price as USD per million tokens: per token that is micro-USD, × 10^6 integer pico-USD. */
const picos = (tokens: number, usdPerMillion: number): bigint =>
  BigInt(tokens) * BigInt(Math.round(usdPerMillion * 1_000_000));
/** Micro-USD: the sum of pico-USD rounded half up. */
const micros = (total: bigint): bigint => (total + 500_000n) / 1_000_000n;

interface Case {
  name: string;
  model: string;
  price: { input: number; cachedInput: number; cacheWrite?: number; output: number };
  /** What the emulator reports as written to the cache (the OpenAI family reports no cache writes). */
  written: number;
}

const cases: Case[] = [
  { name: "OpenAI", model: models.openai, price: prices.providers.openai["gpt-4o"], written: 0 },
  { name: "Azure OpenAI", model: models.azure, price: prices.providers.openai["gpt-4o"], written: 0 },
  {
    name: "Anthropic",
    model: models.anthropic,
    price: prices.providers.anthropic["claude-sonnet-4"],
    written: cacheWriteTokens,
  },
];

/** The cost the price list gives: fresh prompt tokens, cache reads, cache writes and output each at their price. */
function expectedCost({ price, written }: Case): bigint {
  const fresh = promptTokens - cachedTokens - written;
  return micros(
    picos(fresh, price.input) +
      picos(cachedTokens, price.cachedInput) +
      picos(written, price.cacheWrite ?? price.input) +
      picos(maxTokens, price.output),
  );
}

it("the figures are such that ignoring the cached tokens changes the cost", () => {
  expect(promptTokens).toBe(207);
  expect(prices.providers.openai["gpt-4o"]).toEqual({ input: 2.5, cachedInput: 1.25, output: 10 });
  // 79 × 2.5 + 128 × 1.25 + 7 × 10 = 427.5 micro-USD, rounded half up; all 207 at the input price would be 588.
  expect(expectedCost(cases[0] as Case)).toBe(428n);
  // 39 × 3 + 128 × 0.3 + 40 × 3.75 + 7 × 15 = 410.4 micro-USD.
  expect(expectedCost(cases[2] as Case)).toBe(410n);
});

const fault: Fault = { cachedTokens, cacheWriteTokens };

describe.each([
  { source: "a per-run fault", options: { emulator: { fault } } },
  {
    source: "the x-emulator-fault header",
    options: {
      providerDefaults: {
        headers: { "x-emulator-fault": `cached-tokens=${cachedTokens};cache-write-tokens=${cacheWriteTokens}` },
      },
    },
  },
])("cached prompt tokens reported by the provider (emulator told by $source)", ({ options }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(options);
  });
  afterAll(() => h.close());

  const request = (model: string) => ({ model, messages: [{ role: Role.USER, content }], options: { maxTokens } });

  /** The usage every answer must carry for `c`. */
  const expectedUsage = (c: Case): Partial<Usage> => ({
    promptTokens,
    completionTokens: maxTokens,
    totalTokens: promptTokens + maxTokens,
    cachedPromptTokens: cachedTokens,
    cacheWriteTokens: c.written,
    costMicros: expectedCost(c),
  });

  it.each(cases)(
    "$name: a unary answer's usage carries them and its cost bills them at the cached-input price",
    async (c) => {
      const response = await h.grpc.chat(request(c.model));
      expect(response.usage).toMatchObject(expectedUsage(c));
      expect(response.metadata?.costUnknown).toBe(false);
    },
  );

  it.each(cases)(
    "$name: a stream's final usage carries them and its cost bills them at the cached-input price",
    async (c) => {
      const finals: (Usage | undefined)[] = [];
      for await (const chunk of h.grpc.streamChat(request(c.model)))
        if (chunk.usage !== undefined) finals.push(chunk.usage);
      expect(finals).toHaveLength(1);
      expect(finals[0]).toMatchObject(expectedUsage(c));
    },
  );
});
