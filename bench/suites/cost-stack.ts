import { KeyRegistry } from "../../src/auth/key-registry.js";
import { KeyStore } from "../../src/auth/key-store.js";
import { alertsSchema } from "../../src/config/cost-control-schema.js";
import { SharedTokenEstimator } from "../../src/pipeline/rate-limit/tokens/shared-token-estimator.js";
import { TokenEstimator } from "../../src/pipeline/rate-limit/tokens/token-estimator.js";
import { AlertCenter } from "../../src/usage/alerts/alert-center.js";
import { AlertOutbox } from "../../src/usage/alerts/alert-outbox.js";
import { WebhookDispatcher } from "../../src/usage/alerts/webhook-dispatcher.js";
import { BudgetBook } from "../../src/usage/budget-book.js";
import { CostControl, type PricedRoute } from "../../src/usage/cost-control.js";
import { LedgerWriter } from "../../src/usage/ledger-writer.js";
import { PriceTable } from "../../src/usage/price-table.js";
import { loadSpend } from "../../src/usage/spend-loader.js";
import { openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";

/** The model every cost-suite request asks for, and its one target. */
export const costModel = "gpt-4o";
export const costProvider = "openai-bench";

/** A route like the router's: one OpenAI target (cost control prices its targets). */
export const costRoute: PricedRoute = {
  name: costModel,
  targets: [{ provider: costProvider, providerType: "openai", model: costModel }],
};

/** How many keys and tenants the registry holds. */
export const stackKeys = 1_000;
const stackTenants = 50;
/** A budget no bench run can reach: $1,000,000 a month. */
const unreachable = { limitMicros: 1_000_000_000_000, period: "month" } as const;

/** One issued key, with the header a client would send. */
export interface StackKey {
  authorization: string;
  budgeted: boolean;
}

/** The cost-control objects of a gateway with keys and budgets on, on a temp-file database. */
export interface CostStack {
  db: UsageDatabase;
  registry: KeyRegistry;
  costs: CostControl;
  ledger: LedgerWriter;
  keys: StackKey[];
  /** False: finished requests' records are dropped instead of queued (the in-memory check alone is measured). */
  recording: boolean;
  close(): Promise<void>;
}

/**
 * Builds KeyRegistry, BudgetBook, LedgerWriter and CostControl as `startGateway` (src/main.ts) wires them, with
 * the config's defaults (ledger flush every 50 ms or 500 records, budget wait 10 s, alert thresholds 80 and
 * 100 %): 1,000 keys in 50 tenants; even-numbered keys have a monthly budget and so have their tenants (all
 * even-numbered), odd ones none, so half the keys are checked against two budgets and half against none. The
 * budget alerts are wired (`onSpend`) and `record` appends to the ledger; `ended` (the error-rate alert
 * window, `AlertCenter.requestEnded`) is not: it is the same with keys on and off, and its cost depends on
 * how many requests ended in the last 5 minutes, not on keys. Token estimates use a SharedTokenEstimator
 * (defaultMaxTokens 1024) with gpt-4o's tokenizer preloaded. `dbPath` may hold a ledger already (its keys
 * table must be empty).
 */
export async function openCostStack(dbPath: string): Promise<CostStack> {
  const db = openUsageDatabase(dbPath);
  const registry = new KeyRegistry(new KeyStore(db));
  const keys: StackKey[] = [];
  db.transaction(() => {
    for (let i = 0; i < stackKeys; i++) {
      const budgeted = i % 2 === 0;
      const tenant = `tenant-${i % stackTenants}`;
      const made = registry.create({
        tenant,
        name: `bench-${i}`,
        models: i % 4 < 2 ? [] : ["gpt-4o-mini", costModel],
        budget: budgeted ? unreachable : undefined,
        requestsPerMinute: undefined,
        tokensPerMinute: undefined,
      });
      if (budgeted && registry.tenantBudget(tenant) === undefined) registry.setTenantBudget(tenant, unreachable);
      keys.push({ authorization: `Bearer ${made.secret}`, budgeted });
    }
  })();
  const outbox = new AlertOutbox(db);
  const dispatcher = new WebhookDispatcher({ outbox, webhooks: [] });
  const alerts = new AlertCenter({ config: alertsSchema.parse({}), outbox, dispatcher });
  const book = new BudgetBook({ maxWaitMs: 10_000, onSpend: (spend) => alerts.budgetSpend(spend) }, loadSpend(db));
  const ledger = new LedgerWriter(db, { flushIntervalMs: 50, maxBatch: 500 });
  const estimator = new SharedTokenEstimator({ defaultMaxTokens: 1024 });
  await TokenEstimator.preload([costModel]);
  const costs = new CostControl({
    book,
    prices: new PriceTable(),
    estimator,
    defaultMaxTokens: new Map([[costProvider, 1024]]),
    tenantBudget: (tenant) => registry.tenantBudget(tenant),
    record: (record) => {
      if (stack.recording) ledger.append(record);
    },
  });
  const stack: CostStack = {
    db,
    registry,
    costs,
    ledger,
    keys,
    recording: true,
    close: async () => {
      await costs.drain();
      ledger.close();
      await dispatcher.stop();
      db.close();
    },
  };
  return stack;
}
