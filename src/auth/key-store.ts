import type { Statement } from "better-sqlite3";
import type { Budget, BudgetPeriod } from "../usage/budget-period.js";
import type { UsageDatabase } from "../usage/usage-database.js";
import type { ApiKeyRecord } from "./api-key.js";

interface KeyRow {
  id: string;
  secret_hash: string;
  secret_prefix: string;
  tenant: string;
  name: string;
  models: string;
  budget_limit_micros: number | null;
  budget_period: string | null;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  created_at: number;
  revoked_at: number | null;
}

interface TenantBudgetRow {
  tenant: string;
  limit_micros: number;
  period: string;
}

const periods: ReadonlySet<string> = new Set<BudgetPeriod>(["total", "day", "month"]);

function budgetOf(limit: number | null, period: string | null): Budget | undefined {
  return limit === null || period === null || !periods.has(period)
    ? undefined
    : { limitMicros: limit, period: period as BudgetPeriod };
}

function keyOf(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    secretPrefix: row.secret_prefix,
    tenant: row.tenant,
    name: row.name,
    models: JSON.parse(row.models) as string[],
    budget: budgetOf(row.budget_limit_micros, row.budget_period),
    requestsPerMinute: row.requests_per_minute ?? undefined,
    tokensPerMinute: row.tokens_per_minute ?? undefined,
    createdAt: row.created_at,
    revokedAt: row.revoked_at ?? undefined,
  };
}

/** The durable side of keys and tenant budgets: SQLite rows, read at start and written on every admin change. */
export class KeyStore {
  readonly #insert: Statement;
  readonly #revoke: Statement;
  readonly #setTenant: Statement;
  readonly #removeTenant: Statement;

  constructor(private readonly db: UsageDatabase) {
    this.#insert = db.prepare(
      `INSERT INTO api_keys (id, secret_hash, secret_prefix, tenant, name, models, budget_limit_micros, budget_period,
         requests_per_minute, tokens_per_minute, created_at, revoked_at)
       VALUES (@id, @secretHash, @secretPrefix, @tenant, @name, @models, @limit, @period, @rpm, @tpm, @createdAt, NULL)`,
    );
    this.#revoke = db.prepare(`UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`);
    this.#setTenant = db.prepare(
      `INSERT INTO tenant_budgets (tenant, limit_micros, period, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (tenant) DO UPDATE SET limit_micros = excluded.limit_micros, period = excluded.period, updated_at = excluded.updated_at`,
    );
    this.#removeTenant = db.prepare(`DELETE FROM tenant_budgets WHERE tenant = ?`);
  }

  keys(): ApiKeyRecord[] {
    return (this.db.prepare(`SELECT * FROM api_keys ORDER BY created_at, id`).all() as KeyRow[]).map(keyOf);
  }

  insert(key: ApiKeyRecord): void {
    this.#insert.run({
      id: key.id,
      secretHash: key.secretHash,
      secretPrefix: key.secretPrefix,
      tenant: key.tenant,
      name: key.name,
      models: JSON.stringify(key.models),
      limit: key.budget?.limitMicros ?? null,
      period: key.budget?.period ?? null,
      rpm: key.requestsPerMinute ?? null,
      tpm: key.tokensPerMinute ?? null,
      createdAt: key.createdAt,
    });
  }

  revoke(id: string, at: number): void {
    this.#revoke.run(at, id);
  }

  tenantBudgets(): Map<string, Budget> {
    const rows = this.db.prepare(`SELECT tenant, limit_micros, period FROM tenant_budgets`).all() as TenantBudgetRow[];
    return new Map(
      rows.flatMap((row) => {
        const budget = budgetOf(row.limit_micros, row.period);
        return budget === undefined ? [] : [[row.tenant, budget] as const];
      }),
    );
  }

  setTenantBudget(tenant: string, budget: Budget | undefined, at: number): void {
    if (budget === undefined) this.#removeTenant.run(tenant);
    else this.#setTenant.run(tenant, budget.limitMicros, budget.period, at);
  }
}
