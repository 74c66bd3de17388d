import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/** The SQLite connection every store of keys, budgets, ledger and alerts shares. */
export type UsageDatabase = Database.Database;

/**
 * The schema, one statement per step. A database records how many steps it has run (`user_version`), so a
 * newer gateway adds its steps to an older file and never runs one twice.
 */
const migrations: readonly string[] = [
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     secret_hash TEXT NOT NULL UNIQUE,
     secret_prefix TEXT NOT NULL,
     tenant TEXT NOT NULL,
     name TEXT NOT NULL,
     models TEXT NOT NULL,
     budget_limit_micros INTEGER,
     budget_period TEXT,
     requests_per_minute INTEGER,
     tokens_per_minute INTEGER,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   ) STRICT`,
  `CREATE TABLE tenant_budgets (
     tenant TEXT PRIMARY KEY,
     limit_micros INTEGER NOT NULL,
     period TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   ) STRICT`,
  `CREATE TABLE budget_spend (
     scope TEXT NOT NULL,
     period TEXT NOT NULL,
     window_start INTEGER NOT NULL,
     spent_micros INTEGER NOT NULL,
     PRIMARY KEY (scope, period, window_start)
   ) STRICT, WITHOUT ROWID`,
  `CREATE TABLE requests (
     id TEXT PRIMARY KEY,
     started_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     tenant TEXT NOT NULL,
     key_id TEXT NOT NULL,
     model TEXT NOT NULL,
     provider TEXT NOT NULL,
     provider_model TEXT NOT NULL,
     operation TEXT NOT NULL,
     stream INTEGER NOT NULL,
     status TEXT NOT NULL,
     failed INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     prompt_tokens INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     cached_prompt_tokens INTEGER NOT NULL,
     cache_write_tokens INTEGER NOT NULL,
     cost_micros INTEGER NOT NULL,
     cost_picos INTEGER NOT NULL,
     cost_unknown INTEGER NOT NULL,
     estimated INTEGER NOT NULL
   ) STRICT`,
  `CREATE INDEX requests_started ON requests (started_at)`,
  `CREATE INDEX requests_key ON requests (key_id, started_at)`,
  `CREATE INDEX requests_tenant ON requests (tenant, started_at)`,
  `CREATE INDEX requests_model ON requests (model, started_at)`,
  `CREATE INDEX requests_provider ON requests (provider, started_at)`,
  `CREATE TABLE attempts (
     request_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     provider TEXT NOT NULL,
     model TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER NOT NULL,
     status TEXT NOT NULL,
     billed INTEGER NOT NULL,
     prompt_tokens INTEGER NOT NULL,
     completion_tokens INTEGER NOT NULL,
     cached_prompt_tokens INTEGER NOT NULL,
     cost_picos INTEGER NOT NULL,
     cost_unknown INTEGER NOT NULL,
     estimated INTEGER NOT NULL,
     PRIMARY KEY (request_id, seq)
   ) STRICT, WITHOUT ROWID`,
  `CREATE TABLE alert_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     dedupe_key TEXT UNIQUE,
     webhook TEXT NOT NULL,
     payload TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     delivered_at INTEGER,
     failed_at INTEGER
   ) STRICT`,
  `CREATE TABLE spend_checkpoint (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     request_rowid INTEGER NOT NULL
   ) STRICT`,
  `CREATE TABLE alert_fired (
     dedupe_key TEXT PRIMARY KEY,
     fired_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID`,
];

/**
 * Opens (creating when needed) the gateway's SQLite database in WAL mode and brings its schema up to date.
 * WAL lets GetUsage read while the ledger writes; `synchronous = NORMAL` is durable across a process crash
 * (a power loss may lose the last transactions, never corrupt the file).
 */
export function openUsageDatabase(path: string): UsageDatabase {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  // 16 MiB of page cache (default 2 MiB): the ledger's indexes stay in memory while it is written.
  db.pragma("cache_size = -16384");
  const version = Number(db.pragma("user_version", { simple: true }));
  const pending = migrations.slice(version);
  if (pending.length > 0) {
    db.transaction(() => {
      for (const step of pending) db.exec(step);
      db.pragma(`user_version = ${migrations.length}`);
    })();
  }
  // Query-planner statistics, so GetUsage picks the index of its time range when that is the narrowest
  // (measured at 2M rows: "last 24 h by provider" 149 ms without them, 10 ms with). A sampled ANALYZE
  // (analysis_limit) keeps this to milliseconds on a large ledger; closeUsageDatabase refreshes them.
  db.pragma("analysis_limit = 1000");
  db.pragma("optimize = 0x10002");
  return db;
}

/** Refreshes the query-planner statistics (cheap: only tables that changed enough) and closes the database. */
export function closeUsageDatabase(db: UsageDatabase): void {
  db.pragma("optimize");
  db.close();
}
