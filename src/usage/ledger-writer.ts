import type { Statement } from "better-sqlite3";
import type { Logger } from "pino";
import type { LedgerRecord } from "./ledger-record.js";
import type { UsageDatabase } from "./usage-database.js";

/** What a LedgerWriter is built from. */
export interface LedgerWriterOptions {
  /** How long a record waits for its batch (storage.sqlite.flushIntervalMs). */
  flushIntervalMs: number;
  /** A batch is written at once at this size. */
  maxBatch: number;
  logger?: Logger | undefined;
}

/**
 * Writes ledger records to SQLite in batches, off the request path: a request ends by queueing its record;
 * a timer writes the queue in one transaction (requests, their attempts and the budget spend they add,
 * together: a settled spend is never written without its record, nor a record without its spend). A batch
 * that fails to write stays queued and is tried again (see #retry). `close` writes what is left.
 */
export class LedgerWriter {
  readonly #queue: LedgerRecord[] = [];
  readonly #insertRequest: Statement;
  readonly #insertAttempt: Statement;
  readonly #addSpend: Statement;
  readonly #write: (records: readonly LedgerRecord[]) => void;
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
    this.#write = db.transaction((records: readonly LedgerRecord[]) => {
      for (const r of records) this.#insert(r);
    });
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
      this.#write(batch);
    } catch (error) {
      this.#retry(batch, error);
    }
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
        this.#write([record]);
      } catch {
        failed.push(record);
      }
    }
    if (failed.length < batch.length) {
      for (const record of failed) {
        this.options.logger?.error({ err: error, record: JSON.stringify(record, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) }, "usage ledger refused a record; dropped");
      }
      return;
    }
    this.#queue.unshift(...failed);
    this.options.logger?.error({ err: error, records: failed.length }, "usage ledger write failed; will retry");
    this.#timer = setTimeout(() => this.flush(), Math.max(1_000, this.options.flushIntervalMs));
  }

  /** Writes what is queued and stops the timer. */
  close(): void {
    this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #insert(r: LedgerRecord): void {
    this.#insertRequest.run(
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
    for (const s of r.spend) this.#addSpend.run(s.scope, s.period, s.windowStart, s.micros);
  }
}
