import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { openUsageDatabase } from "../../src/usage/usage-database.js";

/** The shape of a synthetic ledger. */
export interface LedgerShape {
  rows: number;
  keys: number;
  tenants: number;
  models: number;
  providers: number;
  /** The rows' started_at spread evenly (with jitter) over this many days, ending at `endAt`. */
  days: number;
  endAt: number;
}

/** A filled ledger and the names it used. */
export interface FilledLedger {
  path: string;
  fillS: number;
  /** The file, and its WAL if one is left, after the database was closed. */
  dbBytes: number;
  keyIds: string[];
  tenants: string[];
  models: string[];
  providers: string[];
}

const dayMs = 86_400_000;
/** Rows per transaction. */
const batchRows = 100_000;

/** A small seeded generator (mulberry32), so every run fills the same distribution. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Fills the `requests` table of a new database (the schema of openUsageDatabase: WAL, every index of the
 * ledger) with `shape.rows` rows, in time order as the ledger writes them, one transaction and one prepared
 * INSERT per 100,000 rows. Each row has a random UUID id (as the gateway's request ids), a key drawn uniformly
 * from `keys` (key i bills to tenant i mod `tenants`), a model drawn uniformly (model j is served by provider
 * j mod `providers`); 2 % failed, token counts and costs of a short chat.
 */
export function fillLedger(path: string, shape: LedgerShape, log: (message: string) => void): FilledLedger {
  const random = seeded(20_240_806);
  const pick = (n: number): number => Math.floor(random() * n);
  const keyIds = Array.from({ length: shape.keys }, () => `key_${randomBytes(8).toString("hex")}`);
  const tenants = Array.from({ length: shape.tenants }, (_, i) => `tenant-${i}`);
  const models = Array.from({ length: shape.models }, (_, i) => `model-${i}`);
  const providers = Array.from({ length: shape.providers }, (_, i) => `provider-${i}`);
  const started = performance.now();
  const db = openUsageDatabase(path);
  try {
    const insert = db.prepare(
      `INSERT INTO requests (id, started_at, ended_at, tenant, key_id, model, provider, provider_model, operation, stream,
         status, failed, attempts, prompt_tokens, completion_tokens, cached_prompt_tokens, cache_write_tokens, cost_micros, cost_picos,
         cost_unknown, estimated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const from = shape.endAt - shape.days * dayMs;
    const step = (shape.days * dayMs) / shape.rows;
    const fillBatch = db.transaction((first: number, last: number) => {
      for (let i = first; i < last; i++) {
        const key = pick(shape.keys);
        const model = pick(shape.models);
        const startedAt = Math.floor(from + i * step + random() * step);
        const failed = random() < 0.02;
        const prompt = failed ? 0 : 20 + pick(2_000);
        const completion = failed ? 0 : 1 + pick(800);
        const picos = BigInt(prompt) * 2_500_000n + BigInt(completion) * 10_000_000n;
        insert.run(
          randomUUID(),
          startedAt,
          startedAt + 200 + pick(5_000),
          tenants[key % shape.tenants] ?? "",
          keyIds[key] ?? "",
          models[model] ?? "",
          providers[model % shape.providers] ?? "",
          models[model] ?? "",
          "chat",
          random() < 0.3 ? 1 : 0,
          failed ? "unavailable" : "ok",
          failed ? 1 : 0,
          failed ? 2 : 1,
          prompt,
          completion,
          0,
          0,
          (picos + 500_000n) / 1_000_000n,
          picos,
          0,
          0,
        );
      }
    });
    for (let first = 0; first < shape.rows; first += batchRows) {
      fillBatch(first, Math.min(shape.rows, first + batchRows));
      if ((first / batchRows) % 5 === 4)
        log(`cost: ledger filled to ${Math.min(shape.rows, first + batchRows).toLocaleString("en-US")} rows`);
    }
  } finally {
    db.close();
  }
  const fillS = (performance.now() - started) / 1000;
  const wal = `${path}-wal`;
  const dbBytes = statSync(path).size + (existsSync(wal) ? statSync(wal).size : 0);
  return { path, fillS, dbBytes, keyIds, tenants, models, providers };
}
