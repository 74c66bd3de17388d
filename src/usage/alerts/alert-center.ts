import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { AlertsConfig } from "../../config/cost-control-schema.js";
import type { CircuitState } from "../../pipeline/resilience/circuit-breaker.js";
import type { BudgetSpend } from "../budget-book.js";
import { formatMicros, periodAdjective } from "../budget-period.js";
import type { AlertOutbox } from "./alert-outbox.js";
import type { Alert, AlertEnvelope } from "./alert.js";
import type { WebhookDispatcher } from "./webhook-dispatcher.js";

/** What the alert center is built from. */
export interface AlertCenterOptions {
  config: AlertsConfig;
  outbox: AlertOutbox;
  dispatcher: WebhookDispatcher;
  logger?: Logger | undefined;
  /** Counts each raised alert in telemetry. */
  onAlert?: (alert: AlertEnvelope) => void;
  now?: () => number;
}

/** Requests of one model that ended within one second. */
interface Bucket {
  second: number;
  requests: number;
  failed: number;
}

/** A model's requests over the error-rate window, in one-second buckets with running totals: O(1) a request. */
interface ModelWindow {
  buckets: Bucket[];
  /** Index of the oldest bucket still in the window. */
  head: number;
  requests: number;
  failed: number;
  alerting: boolean;
}

/** Request endings that say nothing of a model's health: the caller's own doing. */
const callerEndings: ReadonlySet<string> = new Set([
  "ok",
  "cancelled",
  "invalid_request",
  "context_length",
  "content_filter",
  "budget_exceeded",
]);

/**
 * Raises alerts: a key's or tenant's budget crossing each configured threshold (once per threshold per budget
 * period, across restarts), a provider target's circuit opening and closing, and a model's error rate over a
 * window reaching the threshold (once until it drops below). Each alert is a log line, a telemetry count and
 * one outbox entry per webhook, which the dispatcher delivers in the background.
 */
export class AlertCenter {
  readonly #fired = new Set<string>();
  readonly #models = new Map<string, ModelWindow>();
  readonly #now: () => number;
  readonly #thresholds: readonly number[];

  constructor(private readonly options: AlertCenterOptions) {
    this.#now = options.now ?? Date.now;
    this.#thresholds = [...new Set(options.config.budgetThresholds)].sort((a, b) => a - b);
  }

  /** Checks a budget's spend after a settlement against the thresholds. */
  budgetSpend(spend: BudgetSpend): void {
    const { scope, budget, windowStart, spentMicros } = spend;
    for (const threshold of this.#thresholds) {
      if (spentMicros * 100 < threshold * budget.limitMicros) break;
      const dedupe = `budget|${scope.scope}|${budget.period}|${windowStart}|${threshold}`;
      if (this.#fired.has(dedupe)) continue;
      this.#fired.add(dedupe);
      const who = scope.kind === "key" ? `key ${scope.keyId ?? ""} (tenant ${scope.tenant})` : `tenant ${scope.tenant}`;
      this.#raise(
        {
          type: "budget_threshold",
          scope: scope.kind,
          ...(scope.keyId === undefined ? {} : { keyId: scope.keyId }),
          tenant: scope.tenant,
          period: budget.period,
          periodStart: new Date(windowStart).toISOString(),
          thresholdPercent: threshold,
          spentMicros,
          limitMicros: budget.limitMicros,
        },
        `${who} reached ${threshold}% of its ${periodAdjective(budget.period)} budget: ${formatMicros(spentMicros)} of ${formatMicros(budget.limitMicros)}`,
        dedupe,
      );
    }
  }

  /** A target's circuit changed state. */
  circuitChanged(provider: string, model: string, to: CircuitState, from: CircuitState): void {
    if (!this.options.config.circuitChanges) return;
    if (to === "open")
      this.#raise({ type: "circuit_opened", provider, model }, `circuit of ${provider}/${model} opened (was ${from})`);
    else if (to === "closed" && from !== "closed")
      this.#raise({ type: "circuit_closed", provider, model }, `circuit of ${provider}/${model} closed again`);
  }

  /** A request ended (`ok` or its error kind): feeds its model's error-rate window. */
  requestEnded(model: string, status: string): void {
    const { threshold, windowMs, minRequests } = this.options.config.errorRate;
    let window = this.#models.get(model);
    if (window === undefined) {
      window = { buckets: [], head: 0, requests: 0, failed: 0, alerting: false };
      this.#models.set(model, window);
    }
    const now = this.#now();
    const second = Math.floor(now / 1000);
    const failedNow = callerEndings.has(status) ? 0 : 1;
    const last = window.buckets.at(-1);
    if (last !== undefined && last.second === second && window.head < window.buckets.length) {
      last.requests += 1;
      last.failed += failedNow;
    } else {
      window.buckets.push({ second, requests: 1, failed: failedNow });
    }
    window.requests += 1;
    window.failed += failedNow;
    const oldest = Math.floor((now - windowMs) / 1000);
    for (
      let bucket = window.buckets[window.head];
      bucket !== undefined && bucket.second < oldest;
      bucket = window.buckets[window.head]
    ) {
      window.requests -= bucket.requests;
      window.failed -= bucket.failed;
      window.head += 1;
    }
    if (window.head > 64 && window.head * 2 > window.buckets.length) {
      window.buckets.splice(0, window.head);
      window.head = 0;
    }
    const { requests, failed } = window;
    const rate = requests === 0 ? 0 : failed / requests;
    if (requests >= minRequests && rate >= threshold && !window.alerting) {
      window.alerting = true;
      this.#raise(
        { type: "error_rate", model, errorRate: Math.round(rate * 1000) / 1000, failed, requests, windowMs },
        `model ${model}: ${failed} of ${requests} requests failed in the last ${Math.round(windowMs / 1000)} s`,
      );
    } else if (rate < threshold) {
      window.alerting = false;
    }
  }

  #raise(alert: Alert, message: string, dedupe?: string): void {
    const envelope: AlertEnvelope = { ...alert, id: randomUUID(), time: new Date(this.#now()).toISOString(), message };
    const webhooks = this.options.config.webhooks.map((w) => w.url);
    let raised: boolean;
    try {
      raised = this.options.outbox.raise(dedupe, webhooks, JSON.stringify(envelope), this.#now());
    } catch (error) {
      this.options.logger?.error({ err: error, alert: alert.type }, "alert could not be stored");
      raised = true;
    }
    if (!raised) return;
    this.options.logger?.warn({ alert: envelope }, `alert: ${message}`);
    this.options.onAlert?.(envelope);
    if (webhooks.length > 0) this.options.dispatcher.kick();
  }
}
