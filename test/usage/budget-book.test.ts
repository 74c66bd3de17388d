import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider-error.js";
import { BudgetBook, type BudgetScope, type BudgetSpend } from "../../src/usage/budget-book.js";
import type { Budget } from "../../src/usage/budget-period.js";
import { providerErrorOf } from "../support/provider-error-of.js";

const at = (iso: string): number => Date.parse(iso);
const noon = at("2025-03-15T12:00:00.000Z");

const keyScope = (budget: Budget | undefined, id = "key_a"): BudgetScope => ({
  scope: `key:${id}`,
  kind: "key",
  tenant: "acme",
  keyId: id,
  label: `key ${id} ("billing-svc")`,
  budget,
});
const tenantScope = (budget: Budget | undefined, tenant = "acme"): BudgetScope => ({
  scope: `tenant:${tenant}`,
  kind: "tenant",
  tenant,
  label: `tenant ${tenant}`,
  budget,
});

function clock(start: number): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set: (next) => (t = next) };
}

const live = (): AbortSignal => new AbortController().signal;

/** Whether `promise` is still pending after the current macrotask turn. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 5));
  return !done;
}

describe("BudgetBook reservations", () => {
  it("reserves all-or-nothing: a refusal on the tenant leaves nothing held on the key", async () => {
    const c = clock(noon);
    const book = new BudgetBook({ maxWaitMs: 0, now: c.now }, [
      { scope: "tenant:acme", period: "total", windowStart: 0, micros: 950 },
    ]);
    const scopes = [
      keyScope({ limitMicros: 500, period: "total" }),
      tenantScope({ limitMicros: 1000, period: "total" }),
    ];

    const error = await providerErrorOf(book.reserve(scopes, 100, live(), undefined));
    expect(error.kind).toBe("budget_exceeded");
    expect(error.message).toContain("tenant acme has a total budget of $0.001");

    // Were 100 still held on the key, a 500 reservation would not fit and (maxWaitMs 0) fail at once.
    const hold = await book.reserve([keyScope({ limitMicros: 500, period: "total" })], 500, live(), undefined);
    expect(hold.reserved).toBe(500);
  });

  it("never lets concurrent reservations exceed the limit", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "day" })];
    const results = await Promise.allSettled(
      Array.from({ length: 25 }, () => book.reserve(scopes, 100, live(), undefined)),
    );
    const granted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(granted).toHaveLength(10);
    expect(refused).toHaveLength(15);
    for (const r of refused) expect(ProviderError.is(r.reason, "budget_exceeded")).toBe(true);
  });

  it("makes a call that fits the spend but not the reservations wait, and grants it when others settle below", async () => {
    const book = new BudgetBook({ maxWaitMs: 5_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const first = await book.reserve(scopes, 600, live(), undefined);
    const second = book.reserve(scopes, 600, live(), undefined);
    expect(await pending(second)).toBe(true);

    first.settle(300);
    const hold = await second;
    expect(hold.reserved).toBe(600);
    expect(book.spent("key:key_a", "total")).toBe(300);
  });

  it("refuses a waiting call at once when settlement leaves too little for it", async () => {
    const book = new BudgetBook({ maxWaitMs: 10_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const first = await book.reserve(scopes, 600, live(), undefined);
    const second = book.reserve(scopes, 600, live(), undefined);
    expect(await pending(second)).toBe(true);

    const started = Date.now();
    first.settle(500);
    const error = await providerErrorOf(second);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.kind).toBe("budget_exceeded");
    expect(error.message).toBe(
      'budget exceeded: key key_a ("billing-svc") has a total budget of $0.001 (spent $0.0005); this call may cost up to $0.0006',
    );
    expect(error.retryAfterMs).toBeUndefined();
  });

  it("refuses at once, without waiting, a call that does not fit even the settled spend", async () => {
    const book = new BudgetBook({ maxWaitMs: 10_000, now: () => noon }, [
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 900 },
    ]);
    const started = Date.now();
    const error = await providerErrorOf(
      book.reserve([keyScope({ limitMicros: 1000, period: "total" })], 101, live(), undefined),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error.kind).toBe("budget_exceeded");
  });

  it("bounds the wait by maxWaitMs and names the reservations in flight", async () => {
    const book = new BudgetBook({ maxWaitMs: 30, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    await book.reserve(scopes, 700, live(), undefined);
    const started = Date.now();
    const error = await providerErrorOf(book.reserve(scopes, 400, live(), undefined));
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(error.kind).toBe("budget_exceeded");
    expect(error.message).toContain("$0.0007 reserved by calls in flight");
  });

  it("bounds the wait by the call's deadline", async () => {
    const c = clock(noon);
    const book = new BudgetBook({ maxWaitMs: 10_000, now: c.now });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    await book.reserve(scopes, 700, live(), undefined);
    const started = Date.now();
    const error = await providerErrorOf(book.reserve(scopes, 400, live(), noon + 20));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.kind).toBe("budget_exceeded");
    // A deadline already passed does not wait at all.
    expect((await providerErrorOf(book.reserve(scopes, 400, live(), noon - 1))).kind).toBe("budget_exceeded");
  });

  it("stops waiting with kind cancelled when the signal aborts", async () => {
    const book = new BudgetBook({ maxWaitMs: 10_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const first = await book.reserve(scopes, 700, live(), undefined);
    const controller = new AbortController();
    const waiting = book.reserve(scopes, 400, controller.signal, undefined);
    expect(await pending(waiting)).toBe(true);
    controller.abort();
    expect((await providerErrorOf(waiting)).kind).toBe("cancelled");
    // The cancelled waiter held nothing: after settling the first, the full limit minus spend is free.
    first.settle(0);
    expect((await book.reserve(scopes, 1000, live(), undefined)).reserved).toBe(1000);
  });

  it("reports an already-aborted signal as cancelled, not budget_exceeded", async () => {
    const book = new BudgetBook({ maxWaitMs: 10_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    await book.reserve(scopes, 700, live(), undefined);
    const error = await providerErrorOf(book.reserve(scopes, 400, AbortSignal.abort(), undefined));
    expect(error.kind).toBe("cancelled");
  });
});

describe("BudgetHold", () => {
  it("ensure tops the reservation up, and never lowers it", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const hold = await book.reserve(scopes, 100, live(), undefined);
    await hold.ensure(400, live(), undefined);
    expect(hold.reserved).toBe(400);
    await hold.ensure(300, live(), undefined);
    expect(hold.reserved).toBe(400);
    // 400 held: 700 more does not fit (and maxWaitMs 0 refuses), 600 does.
    expect((await providerErrorOf(book.reserve(scopes, 700, live(), undefined))).kind).toBe("budget_exceeded");
    expect((await book.reserve(scopes, 600, live(), undefined)).reserved).toBe(600);
    expect((await providerErrorOf(hold.ensure(1_100, live(), undefined))).kind).toBe("budget_exceeded");
    expect(hold.reserved).toBe(400);
  });

  it("ensure waits for others to settle, then tops up", async () => {
    const book = new BudgetBook({ maxWaitMs: 5_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const hold = await book.reserve(scopes, 600, live(), undefined);
    const other = await book.reserve(scopes, 300, live(), undefined);
    const topUp = hold.ensure(950, live(), undefined);
    expect(await pending(topUp)).toBe(true);
    other.settle(0);
    await topUp;
    expect(hold.reserved).toBe(950);
  });

  it("refuses at once a top-up that cannot fit even once every other reservation settles", async () => {
    const book = new BudgetBook({ maxWaitMs: 2_000, now: () => noon });
    const scopes = [keyScope({ limitMicros: 1000, period: "total" })];
    const hold = await book.reserve(scopes, 600, live(), undefined);
    const started = Date.now();
    // 1100 in all can never fit a limit of 1000, whatever others do: no point waiting maxWaitMs.
    const error = await providerErrorOf(hold.ensure(1_100, live(), undefined));
    expect(error.kind).toBe("budget_exceeded");
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("settle books the cost to total, UTC day and UTC month of every scope, once", async () => {
    const spends: BudgetSpend[] = [];
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon, onSpend: (s) => spends.push(s) });
    const scopes = [keyScope({ limitMicros: 5000, period: "day" }), tenantScope(undefined)];
    const hold = await book.reserve(scopes, 1000, live(), undefined);
    const day = at("2025-03-15T00:00:00.000Z");
    const month = at("2025-03-01T00:00:00.000Z");
    expect(hold.settle(250)).toEqual([
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 250 },
      { scope: "key:key_a", period: "day", windowStart: day, micros: 250 },
      { scope: "key:key_a", period: "month", windowStart: month, micros: 250 },
      { scope: "tenant:acme", period: "total", windowStart: 0, micros: 250 },
      { scope: "tenant:acme", period: "day", windowStart: day, micros: 250 },
      { scope: "tenant:acme", period: "month", windowStart: month, micros: 250 },
    ]);
    expect(hold.reserved).toBe(0);
    expect(hold.settle(250)).toEqual([]);
    expect(book.spent("tenant:acme", "month")).toBe(250);
    // onSpend only for scopes with a budget, after the spend was booked.
    expect(spends).toEqual([
      { scope: scopes[0], budget: { limitMicros: 5000, period: "day" }, windowStart: day, spentMicros: 250 },
    ]);
  });

  it("settle of zero books nothing and calls no onSpend", async () => {
    const spends: BudgetSpend[] = [];
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon, onSpend: (s) => spends.push(s) });
    const hold = await book.reserve([keyScope({ limitMicros: 5000, period: "day" })], 1000, live(), undefined);
    expect(hold.settle(0)).toEqual([]);
    expect(spends).toEqual([]);
    expect(book.spent("key:key_a", "total")).toBe(0);
  });
});

describe("BudgetBook windows and messages", () => {
  it("keeps day and month windows in UTC", async () => {
    const c = clock(at("2025-03-31T23:59:59.000Z"));
    const book = new BudgetBook({ maxWaitMs: 0, now: c.now });
    const hold = await book.reserve([keyScope({ limitMicros: 1000, period: "day" })], 100, live(), undefined);
    hold.settle(100);
    expect(book.spent("key:key_a", "day")).toBe(100);
    expect(book.spent("key:key_a", "month")).toBe(100);

    c.set(at("2025-04-01T00:00:00.000Z"));
    expect(book.spent("key:key_a", "day")).toBe(0);
    expect(book.spent("key:key_a", "month")).toBe(0);
    expect(book.spent("key:key_a", "total")).toBe(100);
    expect(book.spent("key:key_a", "day", at("2025-03-31T00:00:00.000Z"))).toBe(100);
  });

  it("a new day window gives a daily budget its full limit back", async () => {
    const c = clock(at("2025-03-15T22:00:00.000Z"));
    const book = new BudgetBook({ maxWaitMs: 0, now: c.now });
    const scopes = [keyScope({ limitMicros: 1000, period: "day" })];
    (await book.reserve(scopes, 1000, live(), undefined)).settle(1000);
    expect((await providerErrorOf(book.reserve(scopes, 1, live(), undefined))).kind).toBe("budget_exceeded");
    c.set(at("2025-03-16T00:00:00.000Z"));
    expect((await book.reserve(scopes, 1000, live(), undefined)).reserved).toBe(1000);
  });

  it("names the scope and a daily period, and retries at the next UTC midnight", async () => {
    const now = at("2025-03-15T18:00:00.000Z");
    const book = new BudgetBook({ maxWaitMs: 0, now: () => now }, [
      { scope: "key:key_a", period: "day", windowStart: at("2025-03-15T00:00:00.000Z"), micros: 900_000 },
    ]);
    const error = await providerErrorOf(
      book.reserve([keyScope({ limitMicros: 1_000_000, period: "day" })], 200_000, live(), undefined),
    );
    expect(error.message).toBe(
      'budget exceeded: key key_a ("billing-svc") has a daily budget of $1.00 (spent $0.90); this call may cost up to $0.20',
    );
    expect(error.retryAfterMs).toBe(6 * 3_600_000);
  });

  it("names a monthly period and retries at the first of the next UTC month", async () => {
    const now = at("2025-12-31T12:00:00.000Z");
    const book = new BudgetBook({ maxWaitMs: 0, now: () => now }, [
      { scope: "tenant:acme", period: "month", windowStart: at("2025-12-01T00:00:00.000Z"), micros: 12_500_000 },
    ]);
    const error = await providerErrorOf(
      book.reserve([tenantScope({ limitMicros: 12_500_000, period: "month" })], 1, live(), undefined),
    );
    expect(error.message).toContain("tenant acme has a monthly budget of $12.50 (spent $12.50)");
    expect(error.retryAfterMs).toBe(12 * 3_600_000);
  });

  it("starts from the spend it is given, per window", async () => {
    const book = new BudgetBook({ maxWaitMs: 0, now: () => noon }, [
      { scope: "key:key_a", period: "day", windowStart: at("2025-03-14T00:00:00.000Z"), micros: 999 },
      { scope: "key:key_a", period: "day", windowStart: at("2025-03-15T00:00:00.000Z"), micros: 40 },
    ]);
    expect(book.spent("key:key_a", "day")).toBe(40);
    expect(book.spent("key:key_a", "day", at("2025-03-14T08:00:00.000Z"))).toBe(999);
    expect(book.spent("key:key_b", "day")).toBe(0);
  });
});
