import type { CircuitBreakerConfig } from "../../config/pipeline-schema.js";
import type { Provider } from "../../providers/provider.js";
import { errorKindTraits } from "../../providers/error-kind-traits.js";
import { ProviderError } from "../../providers/provider-error.js";
import { attemptPolicy, type AttemptHook } from "../attempt-policy.js";

/** Where a breaker stands: calls flow (closed), are refused (open), or a few probes test recovery (half_open). */
export type CircuitState = "closed" | "open" | "half_open";

/** A breaker's state as ListProviders shows it. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Failures over calls in the current window, 0 when none were seen. */
  errorRate: number;
}

/** What a breaker guards: one model of one configured provider. */
export interface CircuitTarget {
  /** The configured provider name. */
  provider: string;
  /** The provider's model name. */
  model: string;
}

/** How a call that a breaker let through ended. */
export type CallOutcome = "success" | "failure" | "neutral";

/** Permission for one call; report how it ended exactly once (later reports are ignored). */
export interface CircuitPermit {
  report(outcome: CallOutcome): void;
}

/**
 * How a call's error counts for the breaker: a failure for the kinds errorKindTraits marks `breakerFailure`
 * (the target's faults; `rate_limited` among them: a target that keeps answering 429 after retries is
 * saturated, and opening its circuit sends traffic elsewhere for a while), neutral for everything else. Anything but a ProviderError is a bug of the call path and counts as a failure; a call whose own
 * signal was aborted is neutral whatever it threw.
 */
export function outcomeOfError(error: unknown, signal?: AbortSignal): CallOutcome {
  if (signal?.aborted === true) return "neutral";
  if (!(error instanceof ProviderError)) return "failure";
  if (error.callerCaused) return "neutral";
  return errorKindTraits[error.kind].breakerFailure ? "failure" : "neutral";
}

/**
 * A circuit breaker for one target. Closed, it counts consecutive failures and the error rate over a sliding
 * window of `windowMs`; `failureThreshold` consecutive failures, or an error rate of at least `errorRate` once
 * `minRequests` calls ended in the window, open it. Open, it refuses every call for `openMs`, then turns
 * half-open and lets `halfOpenProbes` calls through: when all of them succeed it closes (with fresh counts),
 * and any failing one re-opens it. Calls admitted before a transition report into a stale epoch and change
 * nothing, so a slow call started while closed cannot close a circuit that opened meanwhile.
 */
export class CircuitBreaker {
  readonly #config: CircuitBreakerConfig;
  readonly #now: () => number;
  #state: CircuitState = "closed";
  #epoch = 0;
  #openedAt = 0;
  #consecutiveFailures = 0;
  /** Ends of calls in the window: [time, failed]. */
  #window: Array<[number, boolean]> = [];
  #probesStarted = 0;
  #probesSucceeded = 0;

  constructor(
    readonly target: CircuitTarget,
    config: CircuitBreakerConfig,
    now: () => number = Date.now,
    /** Told of every state change (alerts watch circuits opening and closing). */
    private readonly onChange?: (to: CircuitState, from: CircuitState) => void,
  ) {
    this.#config = config;
    this.#now = now;
  }

  /** The target as `provider/model`, as messages name it. */
  get name(): string {
    return `${this.target.provider}/${this.target.model}`;
  }

  /** The state, moving an open circuit whose `openMs` has passed to half-open. */
  get state(): CircuitState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#config.openMs) this.#transition("half_open");
    return this.#state;
  }

  /** Whether a call would be let through now, without taking a probe slot: what the balancer asks. */
  allowsCalls(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half_open" && this.#probesStarted < this.#config.halfOpenProbes);
  }

  /** Milliseconds until an open circuit turns half-open; 0 otherwise. */
  retryAfterMs(): number {
    return this.state === "open" ? Math.max(0, this.#openedAt + this.#config.openMs - this.#now()) : 0;
  }

  /** Permission for one call, or undefined when the circuit refuses it (open, or no probe slot left). */
  tryAcquire(): CircuitPermit | undefined {
    const state = this.state;
    if (state === "open") return undefined;
    const epoch = this.#epoch;
    const probe = state === "half_open";
    if (probe) {
      if (this.#probesStarted >= this.#config.halfOpenProbes) return undefined;
      this.#probesStarted++;
    }
    let reported = false;
    return {
      report: (outcome) => {
        if (reported) return;
        reported = true;
        this.#report(epoch, probe, outcome);
      },
    };
  }

  /** Permission for one call, or a ProviderError of kind circuit_open (not retryable) naming the wait left. */
  acquire(): CircuitPermit {
    const permit = this.tryAcquire();
    if (permit !== undefined) return permit;
    throw this.openError();
  }

  /**
   * The error of a call this breaker refuses: its provider is the configured provider name (what
   * ErrorDetail.provider promises); the message names the model too.
   */
  openError(): ProviderError {
    const waitMs = this.retryAfterMs();
    const resume = waitMs > 0 ? `in ${waitMs} ms` : "after the running probes";
    return new ProviderError({
      kind: "circuit_open",
      provider: this.target.provider,
      message: `${this.name}: circuit open after repeated failures; calls resume ${resume}`,
      retryable: false,
      ...(waitMs > 0 ? { retryAfterMs: waitMs } : {}),
    });
  }

  /** Forces the circuit open now (operators, tests). */
  trip(): void {
    this.#transition("open");
  }

  /** State and counts for ListProviders. */
  snapshot(): CircuitSnapshot {
    const state = this.state;
    this.#prune();
    const failures = this.#window.filter(([, failed]) => failed).length;
    return {
      state,
      consecutiveFailures: this.#consecutiveFailures,
      errorRate: this.#window.length === 0 ? 0 : failures / this.#window.length,
    };
  }

  #report(epoch: number, probe: boolean, outcome: CallOutcome): void {
    if (epoch !== this.#epoch) return;
    if (probe) {
      this.#reportProbe(outcome);
      return;
    }
    if (outcome === "neutral" || this.#state !== "closed") return;
    this.#window.push([this.#now(), outcome === "failure"]);
    this.#prune();
    if (outcome === "success") {
      this.#consecutiveFailures = 0;
      return;
    }
    this.#consecutiveFailures++;
    if (this.#consecutiveFailures >= this.#config.failureThreshold || this.#rateExceeded()) this.#transition("open");
  }

  #reportProbe(outcome: CallOutcome): void {
    if (outcome === "failure") {
      this.#consecutiveFailures++;
      this.#transition("open");
    } else if (outcome === "neutral") {
      this.#probesStarted--;
    } else if (++this.#probesSucceeded >= this.#config.halfOpenProbes) {
      this.#transition("closed");
    }
  }

  #rateExceeded(): boolean {
    if (this.#window.length < this.#config.minRequests) return false;
    const failures = this.#window.filter(([, failed]) => failed).length;
    return failures / this.#window.length >= this.#config.errorRate;
  }

  #prune(): void {
    const oldest = this.#now() - this.#config.windowMs;
    const keep = this.#window.findIndex(([at]) => at >= oldest);
    if (keep !== 0) this.#window = keep === -1 ? [] : this.#window.slice(keep);
  }

  #transition(state: CircuitState): void {
    const from = this.#state;
    this.#state = state;
    this.#epoch++;
    this.#probesStarted = 0;
    this.#probesSucceeded = 0;
    if (state === "open") this.#openedAt = this.#now();
    if (state === "closed") {
      this.#consecutiveFailures = 0;
      this.#window = [];
    }
    if (from !== state) this.onChange?.(state, from);
  }
}

/**
 * Guards a target's provider with its breaker: a call the circuit refuses fails at once with kind
 * circuit_open (not retryable, so the retry policy outside stops and the route falls back); every other call
 * reports its outcome. A stream succeeds when its finish part arrives and fails when it throws; a consumer
 * that stops reading early reports nothing (a half-open probe slot is released).
 */
export function withCircuitBreaker(provider: Provider, breaker: CircuitBreaker): Provider {
  return attemptPolicy(provider, { hooks: [circuitBreakerHook(breaker)] });
}

/**
 * The breaker's part in an attempt: permission first (an open circuit refuses the call with `circuit_open`),
 * then the outcome reported: success at a unary answer or a stream's finish part, the error's outcome
 * (outcomeOfError) on failure, neutral when a stream's consumer stopped reading before its end.
 */
export function circuitBreakerHook(breaker: CircuitBreaker): AttemptHook {
  return {
    begin(_call, signal) {
      const permit = breaker.acquire();
      return {
        part: (part) => {
          if (part.type === "finish") permit.report("success");
        },
        answer: () => permit.report("success"),
        fail: (error) => permit.report(outcomeOfError(error, signal)),
        end: () => permit.report("neutral"),
      };
    },
  };
}
