import type { UsageDatabase } from "./usage-database.js";

/** A dimension usage rows can be grouped by. */
export type UsageDimension = "tenant" | "key" | "model" | "provider" | "hour" | "day";

/** Which ledger requests to add up, and how to group them. */
export interface UsageFilter {
  tenant?: string;
  keyId?: string;
  model?: string;
  provider?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
  groupBy: readonly UsageDimension[];
}

/** One group's totals. */
export interface UsageTotals {
  tenant: string;
  keyId: string;
  model: string;
  provider: string;
  /** Start of the hour or day (epoch ms) when grouped by time. */
  periodStart: number | undefined;
  requests: number;
  failedRequests: number;
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens: number;
  costMicros: number;
  costUnknownRequests: number;
  estimatedRequests: number;
}

const columns: Readonly<Record<Exclude<UsageDimension, "hour" | "day">, string>> = {
  tenant: "tenant",
  key: "key_id",
  model: "model",
  provider: "provider",
};

const hourMs = 3_600_000;
const dayMs = 86_400_000;

interface Row {
  tenant: string | null;
  key_id: string | null;
  model: string | null;
  provider: string | null;
  period_start: number | null;
  requests: number;
  failed: number | null;
  prompt: number | null;
  completion: number | null;
  cached: number | null;
  cost: number | null;
  unknown: number | null;
  estimated: number | null;
}

/**
 * Answers GetUsage from the ledger's `requests` table: a filter on any of tenant, key, model, provider and a
 * time range (every one an indexed column, each index ending in `started_at` so a filter with a time range
 * reads only its rows), grouped by any of those and by UTC hour or day. Values are bound, never spliced:
 * only the fixed column names above are part of the SQL text.
 */
export function queryUsage(db: UsageDatabase, filter: UsageFilter): UsageTotals[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const equal = (column: string, value: string | undefined): void => {
    if (value === undefined || value === "") return;
    where.push(`${column} = ?`);
    params.push(value);
  };
  equal("tenant", filter.tenant);
  equal("key_id", filter.keyId);
  equal("model", filter.model);
  equal("provider", filter.provider);
  if (filter.since !== undefined) {
    where.push("started_at >= ?");
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    where.push("started_at < ?");
    params.push(filter.until);
  }
  const groups = [...new Set(filter.groupBy)];
  const bucket = groups.includes("hour") ? hourMs : groups.includes("day") ? dayMs : undefined;
  const selected: string[] = [];
  const grouped: string[] = [];
  for (const dimension of groups) {
    if (dimension === "hour" || dimension === "day") continue;
    selected.push(`${columns[dimension]} AS ${columns[dimension]}`);
    grouped.push(columns[dimension]);
  }
  if (bucket !== undefined) {
    selected.push(`(started_at / ${bucket}) * ${bucket} AS period_start`);
    grouped.push("period_start");
  }
  const sql = `SELECT ${[
    ...selected,
    "COUNT(*) AS requests",
    "SUM(failed) AS failed",
    "SUM(prompt_tokens) AS prompt",
    "SUM(completion_tokens) AS completion",
    "SUM(cached_prompt_tokens) AS cached",
    "SUM(cost_micros) AS cost",
    "SUM(cost_unknown) AS unknown",
    "SUM(estimated) AS estimated",
  ].join(", ")} FROM requests${where.length === 0 ? "" : ` WHERE ${where.join(" AND ")}`}${
    grouped.length === 0 ? "" : ` GROUP BY ${grouped.join(", ")} ORDER BY ${grouped.join(", ")}`
  }`;
  const rows = db.prepare(sql).all(...params) as Row[];
  return rows
    .filter((row) => row.requests > 0)
    .map((row) => ({
      tenant: row.tenant ?? "",
      keyId: row.key_id ?? "",
      model: row.model ?? "",
      provider: row.provider ?? "",
      periodStart: row.period_start ?? undefined,
      requests: row.requests,
      failedRequests: row.failed ?? 0,
      promptTokens: row.prompt ?? 0,
      completionTokens: row.completion ?? 0,
      cachedPromptTokens: row.cached ?? 0,
      costMicros: row.cost ?? 0,
      costUnknownRequests: row.unknown ?? 0,
      estimatedRequests: row.estimated ?? 0,
    }));
}
