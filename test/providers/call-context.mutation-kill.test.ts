import { describe, expect, it } from "vitest";
import { withAttemptRecording } from "../../src/pipeline/observe/attempt-recorder.js";
import { type CallContext, detachedContext } from "../../src/providers/call-context.js";
import type { ChatRequest } from "../../src/providers/provider.js";
import { BudgetBook, type BudgetHold } from "../../src/usage/budget-book.js";
import { CallAccount } from "../../src/usage/call-account.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { collectStream } from "../support/collect-stream.js";
import { scriptedProvider } from "../pipeline/resilience/retry-fake-provider.js";

// Kill tests for src/providers/call-context.ts (mutation testing, see docs/testing.md). A new CallTrace has
// delivered no text: the attempt recorder prices a stream attempt's prompt with the text delivered before it
// (a continued stream's context), so a first attempt must be priced on the prompt alone.

const request: ChatRequest = { model: "gpt-4o", messages: [{ role: "user", content: "Hi" }], maxTokens: 100 };

/** A context whose account holds against a 1 USD budget, priced at 1000 prompt tokens. */
async function budgetedContext(): Promise<{ context: CallContext; hold: BudgetHold }> {
  const book = new BudgetBook({ maxWaitMs: 0 });
  const scope = {
    scope: "key:key_a",
    kind: "key" as const,
    tenant: "acme",
    keyId: "key_a",
    label: "key key_a",
    budget: { limitMicros: 1_000_000, period: "total" as const },
  };
  const signal = new AbortController().signal;
  const hold = await book.reserve([scope], 0, signal, undefined);
  const identity = {
    requestId: "req-1",
    tenant: "acme",
    keyId: "key_a",
    model: "fast",
    operation: "chat" as const,
    stream: true,
    startedAt: Date.now(),
  };
  const deps = { prices: new PriceTable(), countText: async () => 0, record: () => undefined };
  const account = new CallAccount(deps, identity, hold, 1000, 100, signal, undefined);
  return { context: { ...detachedContext(), account }, hold };
}

describe("CallTrace: the text delivered before the first attempt", () => {
  it("is none, so a first stream attempt holds what the same unary attempt holds", async () => {
    const streamed = await budgetedContext();
    expect(streamed.context.trace.deliveredText).toBe("");
    const parts = await collectStream(
      withAttemptRecording(scriptedProvider([{ deltas: ["Hello"] }])).streamChat(
        request,
        new AbortController().signal,
        streamed.context,
      ),
    );
    expect(parts.map((part) => part.type)).toEqual(["delta", "finish"]);
    const unary = await budgetedContext();
    await withAttemptRecording(scriptedProvider([{}])).chat(request, new AbortController().signal, unary.context);
    // gpt-4o: 1000 prompt tokens × 2.5 µ$ + 100 output tokens × 10 µ$.
    expect(unary.hold.reserved).toBe(3_500);
    expect(streamed.hold.reserved).toBe(3_500);
  });
});
