import type { Logger } from "pino";
import type { WebhookConfig } from "../../config/cost-control-schema.js";
import type { AlertOutbox, OutboxEntry } from "./alert-outbox.js";

/** What a dispatcher is built from. */
export interface WebhookDispatcherOptions {
  outbox: AlertOutbox;
  webhooks: readonly WebhookConfig[];
  logger?: Logger | undefined;
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

/**
 * Delivers the alert outbox to webhooks as JSON POSTs, in the background: a request never waits for a
 * webhook. Each entry is retried with exponential backoff (a 2xx is delivered; anything else, a timeout or a
 * network error is retried) until the webhook's `maxAttempts`, then given up and logged. Entries left over
 * from before a restart are delivered when the dispatcher starts.
 */
export class WebhookDispatcher {
  readonly #byUrl: ReadonlyMap<string, WebhookConfig>;
  readonly #retryAt = new Map<number, number>();
  readonly #inFlight = new Set<number>();
  readonly #running = new Set<Promise<void>>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.#byUrl = new Map(options.webhooks.map((w) => [w.url, w]));
    this.#now = options.now ?? Date.now;
  }

  /** Looks at the outbox now (after an alert was raised, and at start). */
  kick(): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let next = Infinity;
    const now = this.#now();
    for (const entry of this.options.outbox.pending()) {
      if (this.#inFlight.has(entry.id)) continue;
      const due = this.#retryAt.get(entry.id) ?? 0;
      if (due > now) {
        next = Math.min(next, due);
        continue;
      }
      this.#inFlight.add(entry.id);
      const run = this.#deliver(entry).finally(() => {
        this.#inFlight.delete(entry.id);
        this.#running.delete(run);
      });
      this.#running.add(run);
    }
    if (next !== Infinity) {
      this.#timer = setTimeout(() => this.kick(), next - now);
      this.#timer.unref();
    }
  }

  /** Waits (up to `graceMs`) for deliveries under way, then stops retrying. */
  async stop(graceMs = 500): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async #deliver(entry: OutboxEntry): Promise<void> {
    const webhook = this.#byUrl.get(entry.webhook);
    const { outbox, logger } = this.options;
    if (webhook === undefined) {
      outbox.gaveUp(entry.id, this.#now());
      logger?.warn({ alertId: entry.id }, "alert dropped: its webhook is no longer configured");
      return;
    }
    let failure: string;
    try {
      const response = await fetch(webhook.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...webhook.headers },
        body: entry.payload,
        signal: AbortSignal.timeout(webhook.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        outbox.delivered(entry.id, this.#now());
        this.#retryAt.delete(entry.id);
        return;
      }
      failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = error instanceof Error ? error.name : "error";
    }
    const attempts = entry.attempts + 1;
    if (attempts >= webhook.maxAttempts) {
      outbox.gaveUp(entry.id, this.#now());
      this.#retryAt.delete(entry.id);
      logger?.error({ alertId: entry.id, webhook: originOf(webhook.url), attempts, failure }, "alert delivery gave up");
      return;
    }
    outbox.failedAttempt(entry.id);
    const base = this.options.baseDelayMs ?? 500;
    const delay = Math.min(this.options.maxDelayMs ?? 60_000, base * 2 ** (attempts - 1));
    this.#retryAt.set(entry.id, this.#now() + delay);
    logger?.warn(
      { alertId: entry.id, webhook: originOf(webhook.url), attempts, failure, retryInMs: delay },
      "alert delivery failed; will retry",
    );
    if (!this.#stopped) {
      const timer = setTimeout(() => this.kick(), delay);
      timer.unref();
    }
  }
}

/** A webhook URL without path or query (which may hold a token), for log lines. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "webhook";
  }
}
