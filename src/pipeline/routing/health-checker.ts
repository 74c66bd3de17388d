import type { HealthCheckConfig } from "../../config/pipeline-schema.js";
import { detachedContext } from "../../providers/call-context.js";
import type { Provider } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";

/** What the last conclusive check of a provider said; `unknown` before the first one. */
export type HealthStatus = "unknown" | "healthy" | "unhealthy";

/** A provider's health as the routes read it: a live view, so a route can hold it once and read it per call. */
export interface HealthState {
  readonly status: HealthStatus;
  /** False only after a failed check (unknown counts as healthy). */
  readonly healthy: boolean;
  /** The error of the last failed check, while unhealthy. */
  readonly lastError: ProviderError | undefined;
}

/** Told of every change of a provider's status (the first conclusive check included). */
export type HealthListener = (
  provider: string,
  status: Exclude<HealthStatus, "unknown">,
  error: ProviderError | undefined,
) => void;

/** One provider to check: its provider (the adapter, or the adapter with its timeouts) and its check config. */
export interface HealthCheckEntry {
  provider: Provider;
  check: HealthCheckConfig;
}

class MutableHealthState implements HealthState {
  status: HealthStatus = "unknown";
  lastError: ProviderError | undefined;

  get healthy(): boolean {
    return this.status !== "unhealthy";
  }
}

/**
 * Active health checks: for each entry, a chat call to the check's model with `max_tokens` 1 every
 * `intervalMs` (the next one scheduled when the previous ends, so checks never pile up), bounded by
 * `timeoutMs`. A check that answers marks the provider healthy; one that fails marks it unhealthy (one
 * result decides: the breaker already smooths real traffic). A `rate_limited` answer is inconclusive and
 * changes nothing: the provider is up, only busy. Results feed `stateOf(provider)`, which the route members
 * of that provider hold, and the listener (the lead publishes them in grpc.health.v1 under the provider name).
 * Timers are unref'd, so checks never keep the process alive; `stop()` clears them and aborts running checks.
 */
export class HealthChecker {
  readonly #entries: readonly HealthCheckEntry[];
  readonly #listener: HealthListener | undefined;
  readonly #states = new Map<string, MutableHealthState>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopper: AbortController | undefined;

  constructor(entries: readonly HealthCheckEntry[], listener?: HealthListener) {
    this.#entries = entries;
    this.#listener = listener;
  }

  /** The live health of a provider; a provider without checks stays `unknown`, hence healthy. */
  stateOf(provider: string): HealthState {
    return this.#state(provider);
  }

  #state(provider: string): MutableHealthState {
    let state = this.#states.get(provider);
    if (state === undefined) {
      state = new MutableHealthState();
      this.#states.set(provider, state);
    }
    return state;
  }

  /** Starts checking every entry now and then on its interval; does nothing while already running. */
  start(): void {
    if (this.#stopper !== undefined) return;
    const stopper = new AbortController();
    this.#stopper = stopper;
    for (const entry of this.#entries) void this.#loop(entry, stopper.signal);
  }

  /** Stops every check: clears the timers and aborts the checks running now. */
  stop(): void {
    this.#stopper?.abort();
    this.#stopper = undefined;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Runs every check once, now, and resolves when all have ended (for startup and tests). */
  async checkNow(): Promise<void> {
    const signal = this.#stopper?.signal ?? new AbortController().signal;
    await Promise.all(this.#entries.map((entry) => this.#check(entry, signal)));
  }

  async #loop(entry: HealthCheckEntry, stopped: AbortSignal): Promise<void> {
    await this.#check(entry, stopped);
    if (stopped.aborted) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.#loop(entry, stopped);
    }, entry.check.intervalMs);
    timer.unref();
    this.#timers.add(timer);
  }

  async #check(entry: HealthCheckEntry, stopped: AbortSignal): Promise<void> {
    const { provider, check } = entry;
    const timeout = AbortSignal.timeout(check.timeoutMs);
    const signal = AbortSignal.any([stopped, timeout]);
    try {
      await provider.chat(
        { model: check.model, messages: [{ role: "user", content: "ping" }], maxTokens: 1 },
        signal,
        detachedContext(),
      );
      this.#set(provider.name, "healthy", undefined);
    } catch (error) {
      if (stopped.aborted) return;
      const failure = timeout.aborted
        ? timeoutError(provider.name, check.timeoutMs, error)
        : asProviderError(provider.name, error);
      if (failure.kind === "rate_limited") return;
      this.#set(provider.name, "unhealthy", failure);
    }
  }

  #set(provider: string, status: Exclude<HealthStatus, "unknown">, error: ProviderError | undefined): void {
    const state = this.#state(provider);
    const changed = state.status !== status;
    state.status = status;
    state.lastError = error;
    if (changed) this.#listener?.(provider, status, error);
  }
}

function timeoutError(provider: string, timeoutMs: number, cause: unknown): ProviderError {
  return new ProviderError({
    kind: "timeout",
    provider,
    message: `${provider}: health check timed out after ${timeoutMs} ms`,
    cause,
  });
}

function asProviderError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const message = `${provider}: health check failed: ${error instanceof Error ? error.message : String(error)}`;
  return new ProviderError({ kind: "internal", provider, message, cause: error });
}
