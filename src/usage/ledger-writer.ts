import type { Statement } from "better-sqlite3";
import type { Logger } from "pino";
import type { SpendDelta } from "./budget-book.js";
import type { LedgerRecord } from "./ledger-record.js";
import type { UsageDatabase } from "./usage-database.js";

/** What a LedgerWriter is built from. */
export interface LedgerWriterOptions {
  /** How long a record waits for its batch (storage.sqlite.flushIntervalMs). */
  flushIntervalMs: number;
  /** A batch is written at once at this size. */
  maxBatch: number;
  /** How often the spend of the records written since is added to `budget_spend` (default 5 s). */
  checkpointIntervalMs?: number;
  logger?: Logger | undefined;
}

/** What one written batch added: its spend, and the rowid of its last request row. */
interface Written {
  spend: Map<string, SpendDelta>;
  lastRowid: number;
}

/**
 * Writes ledger records to SQLite in batches, off the request path: a request ends by queueing its record;
 * a timer writes the queue in one transaction (each request with its attempts). A batch that fails to write
 * stays queued and is tried again (see #retry). `close` writes what is left.
 *
 * Budget spend is not written per request: the ledger rows are the record of it. Every
 * `checkpointIntervalMs` (and at close) the spend of the rows written since is added to `budget_spend`
 * together with the rowid of the last request it covers, in one transaction; after a crash, `loadSpend`
 * adds the spend of the requests past that rowid. So the spend a restart starts from is always exactly what
 * the ledger holds, while a request costs no spend write of its own (measured: ~7 µs of CPU per keyed
 * request, six upserts, saved).
 */
export class LedgerWriter {
  readonly #queue: LedgerRecord[] = [];
  readonly #insertRequest: Statement;
  readonly #insertAttempt: Statement;
  readonly #addSpend: Statement;
  readonly #setCheckpoint: Statement;
  readonly #write: (records: readonly LedgerRecord[]) => Written;
  readonly #saveSpend: (spend: Iterable<SpendDelta>, lastRowid: number) => void;
  readonly #checkpointTimer: NodeJS.Timeout;
  /** Spend of the rows written since the last checkpoint. */
  #unsaved = new Map<string, SpendDelta>();
  #lastRowid = 0;
  /** The rowid the last checkpoint covered. */
  #checkpointed = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    db: UsageDatabase,
    private readonly options: LedgerWriterOptions,
  ) {
    this.#insertRequest = db.prepare(
      `INSERT OR IGNORE INTO requests (id, started_at, ended_at, tenant, key_id, model, provider, provider_model, operation, stream,
         status, failed, attempts, prompt_tokens, completion_tokens, cached_prompt_tokens, cache_write_tokens, cost_micros, cost_picos,
         cost_unknown, estimated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertAttempt = db.prepare(
      `INSERT OR IGNORE INTO attempts (request_id, seq, provider, model, started_at, ended_at, status, billed, prompt_tokens,
         completion_tokens, cached_prompt_tokens, cost_picos, cost_unknown, estimated)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#addSpend = db.prepare(
      `INSERT INTO budget_spend (scope, period, window_start, spent_micros) VALUES (?, ?, ?, ?)
       ON CONFLICT (scope, period, window_start) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros`,
    );
    this.#setCheckpoint = db.prepare(
      `INSERT INTO spend_checkpoint (id, request_rowid) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET request_rowid = excluded.request_rowid`,
    );
    this.#write = db.transaction((records: readonly LedgerRecord[]): Written => {
      const written: Written = { spend: new Map(), lastRowid: 0 };
      for (const r of records) {
        const rowid = this.#insert(r);
        if (rowid === undefined) continue;
        written.lastRowid = rowid;
        addSpend(written.spend, r.spend);
      }
      return written;
    });
    this.#saveSpend = db.transaction((spend: Iterable<SpendDelta>, lastRowid: number) => {
      for (const s of spend) this.#addSpend.run(s.scope, s.period, s.windowStart, s.micros);
      this.#setCheckpoint.run(lastRowid);
    });
    this.#checkpointTimer = setInterval(() => this.checkpoint(), options.checkpointIntervalMs ?? 5_000);
    this.#checkpointTimer.unref();
  }

  /** Queues a record; it is written within flushIntervalMs. */
  append(record: LedgerRecord): void {
    this.#queue.push(record);
    if (this.#queue.length >= this.options.maxBatch) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  /** Records queued and not yet written. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Writes every queued record now, in one transaction. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#queue.length);
    try {
      this.#written(this.#write(batch));
    } catch (error) {
      this.#retry(batch, error);
    }
  }

  /** Adds the spend of the rows written since the last checkpoint to `budget_spend`, with the rowid it covers. */
  checkpoint(): void {
    if (this.#unsaved.size === 0 && this.#lastRowid <= this.#checkpointed) return;
    try {
      this.#saveSpend(this.#unsaved.values(), this.#lastRowid);
      this.#unsaved = new Map();
      this.#checkpointed = this.#lastRowid;
    } catch (error) {
      this.options.logger?.error({ err: error }, "budget spend checkpoint failed; the ledger still holds the spend");
    }
  }

  #written(written: Written): void {
    if (written.lastRowid === 0) return;
    addSpend(this.#unsaved, written.spend.values());
    this.#lastRowid = written.lastRowid;
  }

  /**
   * After a failed batch: writes its records one at a time, so one record the database refuses cannot hold
   * the others back. A record refused alone is logged whole (it holds no secret) and dropped; when every
   * record fails (the database itself is failing: disk full, locked) the batch stays queued and is tried again.
   */
  #retry(batch: readonly LedgerRecord[], error: unknown): void {
    const failed: LedgerRecord[] = [];
    for (const record of batch) {
      try {
        this.#written(this.#write([record]));
      } catch {
        failed.push(record);
      }
    }
    if (failed.length < batch.length) {
      for (const record of failed) {
        this.options.logger?.error(
          {
            err: error,
            record: JSON.stringify(record, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)),
          },
          "usage ledger refused a record; dropped",
        );
      }
      return;
    }
    this.#queue.unshift(...failed);
    this.options.logger?.error({ err: error, records: failed.length }, "usage ledger write failed; will retry");
    this.#timer = setTimeout(() => this.flush(), Math.max(1_000, this.options.flushIntervalMs));
  }

  /** Writes what is queued, checkpoints the spend and stops the timers. */
  close(): void {
    this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#checkpointTimer);
    this.checkpoint();
  }

  /** Inserts a request and its attempts; returns its rowid, or undefined when its id was written before. */
  #insert(r: LedgerRecord): number | undefined {
    const inserted = this.#insertRequest.run(
      r.id,
      Math.round(r.startedAt),
      Math.round(r.endedAt),
      r.tenant,
      r.keyId,
      r.model,
      r.provider,
      r.providerModel,
      r.operation,
      r.stream ? 1 : 0,
      r.status,
      r.status === "ok" ? 0 : 1,
      r.attempts.length,
      r.usage.promptTokens,
      r.usage.completionTokens,
      r.usage.cachedPromptTokens,
      r.usage.cacheWriteTokens,
      r.costMicros,
      r.costPicos,
      r.costUnknown ? 1 : 0,
      r.estimated ? 1 : 0,
    );
    if (inserted.changes === 0) return undefined;
    r.attempts.forEach((a, seq) => {
      this.#insertAttempt.run(
        r.id,
        seq,
        a.provider,
        a.model,
        Math.round(a.startedAt),
        Math.round(a.endedAt),
        a.status,
        a.billed ? 1 : 0,
        a.usage.promptTokens,
        a.usage.completionTokens,
        a.usage.cachedPromptTokens,
        a.costPicos,
        a.costUnknown ? 1 : 0,
        a.estimated ? 1 : 0,
      );
    });
    return Number(inserted.lastInsertRowid);
  }
}

/** Adds spend deltas into a map keyed by (scope, period, window). */
function addSpend(into: Map<string, SpendDelta>, spend: Iterable<SpendDelta>): void {
  for (const s of spend) {
    const key = `${s.scope}\u0000${s.period}\u0000${s.windowStart}`;
    const sum = into.get(key);
    if (sum === undefined) into.set(key, { ...s });
    else sum.micros += s.micros;
  }
}
