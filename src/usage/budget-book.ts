import { ProviderError } from "../providers/provider-error.js";
import {
  budgetPeriods,
  formatMicros,
  periodAdjective,
  windowStart,
  type Budget,
  type BudgetPeriod,
} from "./budget-period.js";

/** A budget that applies to a call: a key's or a tenant's. */
export interface BudgetScope {
  /** `key:<id>` or `tenant:<name>`: where spend is kept. */
  scope: string;
  kind: "key" | "tenant";
  /** The tenant: the key's, or the tenant itself. */
  tenant: string;
  /** The key's id, for a key's scope. */
  keyId?: string;
  /** How messages name it: `key key_1a2b ("billing-svc")`, `tenant acme`. */
  label: string;
  budget: Budget | undefined;
}

/** Spend added to one (scope, period, window): what the ledger writes in the same transaction as its records. */
export interface SpendDelta {
  scope: string;
  period: BudgetPeriod;
  windowStart: number;
  micros: number;
}

/** A budget's spend after a settlement, for threshold alerts. */
export interface BudgetSpend {
  scope: BudgetScope;
  budget: Budget;
  windowStart: number;
  spentMicros: number;
}

interface Window {
  spent: number;
  reserved: number;
}

interface Waiter {
  holds: readonly HeldWindow[];
  amount: number;
  /** What the waiting call already holds on the same windows (a top-up's own reservation). */
  alreadyHeld: number;
  grant(): void;
  refuse(error: ProviderError): void;
}

interface HeldWindow {
  scope: BudgetScope;
  budget: Budget;
  key: string;
  windowStart: number;
}

/** What a BudgetBook is built from. */
export interface BudgetBookOptions {
  /** Longest wait for in-flight reservations to settle (budgets.maxWaitMs). */
  maxWaitMs: number;
  now?: () => number;
  /** Called after each settlement with the spend of every budget it changed. */
  onSpend?: (spend: BudgetSpend) => void;
}

const windowKey = (scope: string, period: BudgetPeriod, start: number): string =>
  `${scope}\u0000${period}\u0000${start}`;

/**
 * Spend and reservations of every key and tenant, in memory, checked and changed synchronously: a
 * reservation against several budgets is all-or-nothing and no other call runs between its check and its
 * hold, so concurrent calls can never reserve past a limit. Spend is kept per scope for every period (total,
 * UTC day, UTC month) whether or not a budget applies, so a budget set later starts from the true spend.
 *
 * A call that does not fit a budget's spend plus what others have reserved, but fits its spend alone, waits
 * (up to `maxWaitMs`, its deadline or its cancel) for reservations to settle; each settlement grants every
 * waiter that then fits, oldest first. The budget is then usable to within one call's reservation, not
 * refused early. A call that cannot fit even then fails at once
 * with `budget_exceeded`.
 */
export class BudgetBook {
  readonly #windows = new Map<string, Window>();
  readonly #waiters: Waiter[] = [];
  readonly #now: () => number;

  constructor(
    private readonly options: BudgetBookOptions,
    initial: readonly SpendDelta[] = [],
  ) {
    this.#now = options.now ?? Date.now;
    for (const row of initial) this.#window(windowKey(row.scope, row.period, row.windowStart)).spent += row.micros;
  }

  /** What `scope` spent in the window of `period` that holds `at`, in micro-USD. */
  spent(scope: string, period: BudgetPeriod, at: number = this.#now()): number {
    return this.#windows.get(windowKey(scope, period, windowStart(period, at)))?.spent ?? 0;
  }

  /**
   * Reserves `amount` micro-USD against every budget of `scopes` (all or none). Resolves with the hold, which
   * the call tops up before each further attempt and settles once at its end.
   */
  async reserve(
    scopes: readonly BudgetScope[],
    amount: number,
    signal: AbortSignal,
    deadline: number | undefined,
  ): Promise<BudgetHold> {
    const at = this.#now();
    const held: HeldWindow[] = scopes.flatMap((scope) =>
      scope.budget === undefined
        ? []
        : [
            {
              scope,
              budget: scope.budget,
              key: windowKey(scope.scope, scope.budget.period, windowStart(scope.budget.period, at)),
              windowStart: windowStart(scope.budget.period, at),
            },
          ],
    );
    const hold = new BudgetHold(this, scopes, held);
    await this.acquire(held, amount, signal, deadline);
    hold.reserved = amount;
    return hold;
  }

  /**
   * @internal Holds `amount` more on each window, waiting for it if it may fit later. `alreadyHeld` is what the
   * caller holds there already (a top-up's own reservation): it cannot be released while the caller waits,
   * so a call whose spend plus both cannot fit is refused at once.
   */
  acquire(
    held: readonly HeldWindow[],
    amount: number,
    signal: AbortSignal,
    deadline: number | undefined,
    alreadyHeld = 0,
  ): Promise<void> {
    if (held.length === 0 || amount <= 0) return Promise.resolve();
    if (signal.aborted) return Promise.reject(cancelledWaiting());
    const refusal = this.#refusal(held, amount, alreadyHeld);
    if (refusal !== undefined) return Promise.reject(refusal);
    if (this.#fits(held, amount)) {
      this.#hold(held, amount);
      return Promise.resolve();
    }
    const waitMs = Math.min(this.options.maxWaitMs, deadline === undefined ? Infinity : deadline - this.#now());
    if (waitMs <= 0) return Promise.reject(this.#exceeded(held, amount, true));
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
      };
      const waiter: Waiter = {
        holds: held,
        amount,
        alreadyHeld,
        grant: () => {
          done();
          this.#hold(held, amount);
          resolve();
        },
        refuse: (error) => {
          done();
          reject(error);
        },
      };
      const onAbort = (): void => waiter.refuse(cancelledWaiting());
      const timer = setTimeout(() => waiter.refuse(this.#exceeded(held, amount, true)), waitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** @internal Releases a hold's reservation and adds its real cost, at `at`, to every period of every scope. */
  settle(hold: BudgetHold, costMicros: number, at: number = this.#now()): SpendDelta[] {
    for (const window of hold.held) this.#window(window.key).reserved -= hold.reserved;
    hold.reserved = 0;
    const deltas: SpendDelta[] = [];
    if (costMicros > 0) {
      for (const scope of hold.scopes) {
        for (const period of budgetPeriods) {
          const start = windowStart(period, at);
          this.#window(windowKey(scope.scope, period, start)).spent += costMicros;
          deltas.push({ scope: scope.scope, period, windowStart: start, micros: costMicros });
        }
      }
      for (const scope of hold.scopes) {
        if (scope.budget === undefined) continue;
        const start = windowStart(scope.budget.period, at);
        this.options.onSpend?.({
          scope,
          budget: scope.budget,
          windowStart: start,
          spentMicros: this.spent(scope.scope, scope.budget.period, at),
        });
      }
    }
    this.#wake();
    return deltas;
  }

  #window(key: string): Window {
    let window = this.#windows.get(key);
    if (window === undefined) {
      window = { spent: 0, reserved: 0 };
      this.#windows.set(key, window);
    }
    return window;
  }

  #fits(held: readonly HeldWindow[], amount: number): boolean {
    return held.every((h) => {
      const w = this.#windows.get(h.key);
      return (w?.spent ?? 0) + (w?.reserved ?? 0) + amount <= h.budget.limitMicros;
    });
  }

  /** The budget_exceeded error when `amount` cannot fit even once every other reservation has settled. */
  #refusal(held: readonly HeldWindow[], amount: number, alreadyHeld: number): ProviderError | undefined {
    const over = held.find((h) => (this.#windows.get(h.key)?.spent ?? 0) + alreadyHeld + amount > h.budget.limitMicros);
    return over === undefined ? undefined : this.#exceeded([over], alreadyHeld + amount, false);
  }

  #hold(held: readonly HeldWindow[], amount: number): void {
    for (const h of held) this.#window(h.key).reserved += amount;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) {
      const refusal = this.#refusal(waiter.holds, waiter.amount, waiter.alreadyHeld);
      if (refusal !== undefined) waiter.refuse(refusal);
      else if (this.#fits(waiter.holds, waiter.amount)) waiter.grant();
    }
  }

  #exceeded(held: readonly HeldWindow[], amount: number, waited: boolean): ProviderError {
    const tightest = held.find((h) => !this.#fits([h], amount)) ?? held[0];
    if (tightest === undefined)
      return new ProviderError({ kind: "budget_exceeded", provider: "", message: "budget exceeded" });
    const { scope, budget } = tightest;
    const w = this.#windows.get(tightest.key);
    const spent = w?.spent ?? 0;
    const inFlight = waited ? `, ${formatMicros(w?.reserved ?? 0)} reserved by calls in flight` : "";
    const message =
      `budget exceeded: ${scope.label} has a ${periodAdjective(budget.period)} budget of ${formatMicros(budget.limitMicros)} ` +
      `(spent ${formatMicros(spent)}${inFlight}); this call may cost up to ${formatMicros(amount)}`;
    const next = nextWindow(budget.period, tightest.windowStart);
    return new ProviderError({
      kind: "budget_exceeded",
      provider: "",
      message,
      ...(next === undefined ? {} : { retryAfterMs: Math.max(0, next - this.#now()) }),
    });
  }
}

/** The error of a call cancelled before or while it waited for a budget. */
function cancelledWaiting(): ProviderError {
  return new ProviderError({ kind: "cancelled", provider: "", message: "cancelled while waiting for the budget" });
}

/** The start of the window after the one starting at `start`; undefined for `total`. */
function nextWindow(period: BudgetPeriod, start: number): number | undefined {
  if (period === "total") return undefined;
  const date = new Date(start);
  return period === "day"
    ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * One call's reservation against its budgets. `ensure` tops it up before an attempt that could cost more
 * than is held (a retry after a billed attempt, a fallback to a pricier target); `settle` releases it and
 * books the real cost, once.
 */
export class BudgetHold {
  /** Micro-USD held now on each budget window. */
  reserved = 0;
  #settled = false;

  constructor(
    private readonly book: BudgetBook,
    readonly scopes: readonly BudgetScope[],
    /** @internal */ readonly held: readonly HeldWindow[],
  ) {}

  /** Makes the reservation at least `total` micro-USD, waiting or failing as `reserve` does. */
  async ensure(total: number, signal: AbortSignal, deadline: number | undefined): Promise<void> {
    if (this.#settled || total <= this.reserved) return;
    const more = total - this.reserved;
    await this.book.acquire(this.held, more, signal, deadline, this.reserved);
    this.reserved += more;
  }

  /**
   * Releases the reservation and books `costMicros` in the windows of `at` (the request's end, as its ledger
   * record says, so a restart rebuilds the same windows); returns the spend it added.
   */
  settle(costMicros: number, at?: number): SpendDelta[] {
    if (this.#settled) return [];
    this.#settled = true;
    return this.book.settle(this, costMicros, at);
  }
}
