import type { TokenUsage } from "../../src/providers/provider.js";
import type { AttemptBill, LedgerRecord } from "../../src/usage/ledger-record.js";

/** Token usage with the given prompt and completion tokens. */
export function tokens(prompt: number, completion: number, cached = 0, written = 0): TokenUsage {
  return {
    promptTokens: prompt,
    completionTokens: completion,
    totalTokens: prompt + completion,
    cachedPromptTokens: cached,
    cacheWriteTokens: written,
  };
}

/** A billed, successful attempt. */
export function attemptBill(overrides: Partial<AttemptBill> = {}): AttemptBill {
  return {
    provider: "openai-main",
    model: "gpt-4o",
    startedAt: 1_000,
    endedAt: 1_500,
    status: "ok",
    billed: true,
    usage: tokens(100, 20),
    costPicos: 450_000_000n,
    costUnknown: false,
    estimated: false,
    ...overrides,
  };
}

/** A ledger record of one request with one attempt, changed by `overrides`. */
export function ledgerRecord(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    id: "req-1",
    startedAt: 1_000,
    endedAt: 1_600,
    tenant: "acme",
    keyId: "key_a",
    model: "gpt-4o",
    provider: "openai-main",
    providerModel: "gpt-4o",
    operation: "chat",
    stream: false,
    status: "ok",
    attempts: [attemptBill()],
    usage: tokens(100, 20),
    costMicros: 450n,
    costPicos: 450_000_000n,
    costUnknown: false,
    estimated: false,
    spend: [],
    ...overrides,
  };
}
