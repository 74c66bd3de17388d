import type { Statement } from "better-sqlite3";
import type { UsageDatabase } from "../usage-database.js";

/** One alert waiting to be delivered to one webhook. */
export interface OutboxEntry {
  id: number;
  webhook: string;
  payload: string;
  attempts: number;
}

/**
 * Alerts on their way to webhooks, in SQLite: an alert is written once per webhook in the same transaction
 * that marks its dedupe key fired, so after a restart an alert is neither raised twice nor lost undelivered.
 */
export class AlertOutbox {
  readonly #fired: Statement;
  readonly #enqueue: Statement;
  readonly #delivered: Statement;
  readonly #failedAttempt: Statement;
  readonly #gaveUp: Statement;
  readonly #pending: Statement;
  readonly #raise: (dedupeKey: string | undefined, webhooks: readonly string[], payload: string, at: number) => boolean;

  constructor(db: UsageDatabase) {
    this.#fired = db.prepare(`INSERT OR IGNORE INTO alert_fired (dedupe_key, fired_at) VALUES (?, ?)`);
    this.#enqueue = db.prepare(`INSERT INTO alert_outbox (webhook, payload, created_at) VALUES (?, ?, ?)`);
    this.#delivered = db.prepare(`UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1 WHERE id = ?`);
    this.#failedAttempt = db.prepare(`UPDATE alert_outbox SET attempts = attempts + 1 WHERE id = ?`);
    this.#gaveUp = db.prepare(`UPDATE alert_outbox SET failed_at = ?, attempts = attempts + 1 WHERE id = ?`);
    this.#pending = db.prepare(
      `SELECT id, webhook, payload, attempts FROM alert_outbox WHERE delivered_at IS NULL AND failed_at IS NULL ORDER BY id`,
    );
    this.#raise = db.transaction(
      (dedupeKey: string | undefined, webhooks: readonly string[], payload: string, at: number) => {
        if (dedupeKey !== undefined && this.#fired.run(dedupeKey, at).changes === 0) return false;
        for (const webhook of webhooks) this.#enqueue.run(webhook, payload, at);
        return true;
      },
    );
  }

  /**
   * Records an alert for each webhook unless its dedupe key fired before (ever, across restarts). Returns
   * whether it was raised.
   */
  raise(dedupeKey: string | undefined, webhooks: readonly string[], payload: string, at: number): boolean {
    return this.#raise(dedupeKey, webhooks, payload, at);
  }

  /** Entries not yet delivered nor given up, oldest first. */
  pending(): OutboxEntry[] {
    return this.#pending.all() as OutboxEntry[];
  }

  delivered(id: number, at: number): void {
    this.#delivered.run(at, id);
  }

  failedAttempt(id: number): void {
    this.#failedAttempt.run(id);
  }

  gaveUp(id: number, at: number): void {
    this.#gaveUp.run(at, id);
  }
}
