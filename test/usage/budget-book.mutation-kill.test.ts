// Kills mutants that survived `npm run test:mutation` in src/usage/budget-book.ts and budget-period.ts (see
// docs/testing.md, "Mutation testing").
import { describe, expect, it } from "vitest";
import { BudgetBook, type BudgetScope } from "../../src/usage/budget-book.js";
import { formatMicros, type Budget } from "../../src/usage/budget-period.js";
import { providerErrorOf } from "../support/provider-error-of.js";

const noon = Date.parse("2025-03-15T12:00:00.000Z");
const live = (): AbortSignal => new AbortController().signal;

const keyScope = (budget: Budget | undefined, id = "key_a"): BudgetScope => ({
  scope: `key:${id}`,
  kind: "key",
  tenant: "acme",
  keyId: id,
  label: `key ${id} ("svc")`,
  budget,
});
const tenantScope = (budget: Budget | undefined): BudgetScope => ({
  scope: "tenant:acme",
  kind: "tenant",
  tenant: "acme",
  label: "tenant acme",
  budget,
});
const total = (limitMicros: number): Budget => ({ limitMicros, period: "total" });

describe("BudgetBook: calls that hold nothing", () => {
  it("lets a call that may cost nothing through even when the budget is already overspent", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon }, [
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 1_500 },
    ]);
    const hold = await book.reserve([keyScope(total(1_000))], 0, live(), undefined);
    expect(hold.reserved).toBe(0);
  });

  it("never refuses nor cancels a call that no budget applies to", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon });
    const aborted = new AbortController();
    aborted.abort();
    const hold = await book.reserve([keyScope(undefined), tenantScope(undefined)], 500, aborted.signal, undefined);
    expect(hold.reserved).toBe(500);
  });
});

describe("BudgetBook: a call that fits one budget but not another's reservations", () => {
  it("is not granted, and the refusal names the budget it does not fit, with what calls in flight hold", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon });
    // Another key of the same tenant holds 600 of the tenant's 1000.
    await book.reserve([keyScope(total(10_000), "key_b"), tenantScope(total(1_000))], 600, live(), undefined);
    const error = await providerErrorOf(
      book.reserve([keyScope(total(10_000)), tenantScope(total(1_000))], 500, live(), undefined),
    );
    expect(error.kind).toBe("budget_exceeded");
    expect(error.provider).toBe("");
    expect(error.message).toBe(
      "budget exceeded: tenant acme has a total budget of $0.001 (spent $0.00, $0.0006 reserved by calls in flight); this call may cost up to $0.0005",
    );
  });

  it("whose deadline has passed is refused at once, saying what calls in flight hold", async () => {
    const book = new BudgetBook({ maxWaitMs: 60_000, now: () => noon });
    await book.reserve([keyScope(total(1_000))], 600, live(), undefined);
    const error = await providerErrorOf(book.reserve([keyScope(total(1_000))], 500, live(), noon));
    expect(error.message).toContain("$0.0006 reserved by calls in flight");
    expect(error.message).toContain('key key_a ("svc") has a total budget of $0.001');
  });
});

describe("BudgetBook: a waiting call that is cancelled", () => {
  it("fails as cancelled, by the gateway (no provider), saying it was waiting for the budget", async () => {
    const book = new BudgetBook({ maxWaitMs: 60_000, now: () => noon });
    await book.reserve([keyScope(total(1_000))], 600, live(), undefined);
    const cancel = new AbortController();
    const waiting = providerErrorOf(book.reserve([keyScope(total(1_000))], 500, cancel.signal, undefined));
    cancel.abort();
    const error = await waiting;
    expect(error.kind).toBe("cancelled");
    expect(error.provider).toBe("");
    expect(error.message).toBe("cancelled while waiting for the budget");
  });
});

describe("formatMicros", () => {
  it("writes a negative amount with its sign before the dollar sign", () => {
    expect(formatMicros(-1_500_000)).toBe("-$1.50");
    expect(formatMicros(-1)).toBe("-$0.000001");
    expect(formatMicros(-12_345_678n)).toBe("-$12.345678");
  });
});
