import { errorKindTraits } from "./error-kind-traits.js";
import { scrubSecrets } from "./scrub-secrets.js";

/**
 * Every way a provider call can fail, as one closed set. Adapters map vendor errors into it; what each kind
 * means (retried, counted by the breaker, fallback trigger, gRPC code, retry hint) is decided in one table,
 * errorKindTraits (./error-kind-traits.ts).
 */
export type ProviderErrorKind =
  /** 429: too many requests or tokens for now. */
  | "rate_limited"
  /** 429 insufficient_quota and the like: the account is out of credit; waiting does not help. */
  | "quota_exceeded"
  /** Anthropic 529, 503 "overloaded": the provider sheds load. */
  | "overloaded"
  /** 5xx, connection refused or reset, a stream cut short: the provider could not answer. */
  | "unavailable"
  /** 408, or a time limit passed: the gateway's own for the call, or the client's deadline (DEADLINE_EXCEEDED). */
  | "timeout"
  /** 401/403: the provider rejected the gateway's own credentials. A server-side fault. */
  | "auth"
  /** 400/422: the provider rejected the request as malformed. */
  | "invalid_request"
  /** The prompt does not fit the model's context window. */
  | "context_length"
  /** The provider's content filter refused the prompt or the answer. */
  | "content_filter"
  /** 404: the provider does not know the configured model or deployment. */
  | "not_found"
  /** The provider does not offer this operation (for example embeddings on Anthropic). */
  | "unsupported"
  /** The target's circuit breaker is open: the call was not made. */
  | "circuit_open"
  /** The gateway's own rate-limit queue is full, the wait would pass the caller's deadline, or the prompt can never fit the limit. */
  | "queue_full"
  /** The caller cancelled or went away; a client whose deadline passed is told `timeout`. */
  | "cancelled"
  /** The caller sent no client key, or one the gateway does not know or has revoked. */
  | "unauthenticated"
  /** The caller's key may not use the model it asked for. */
  | "permission_denied"
  /** The call could push the key's or the tenant's spend past its budget: it was not made. */
  | "budget_exceeded"
  /** Anything else: a bug or an answer the adapter could not read. */
  | "internal";

/** What a ProviderError is built from. */
export interface ProviderErrorInit {
  kind: ProviderErrorKind;
  message: string;
  /** The configured provider name. */
  provider: string;
  /** HTTP status of the upstream answer, when there was one. */
  status?: number;
  providerRequestId?: string;
  /** How long the provider asked us to wait, from retry-after-ms, retry-after or rate-limit reset headers. */
  retryAfterMs?: number;
  /** Overrides the kind's default retryability. */
  retryable?: boolean;
  /** Set by the retry policy when this is the last of `maxAttempts` failed attempts on one target. */
  retriesExhausted?: boolean;
  /**
   * The caller, not the provider, made the call fail (a stream read too slowly to end within `totalMs`): it
   * says nothing of the target's health (the circuit breaker ignores it) and trying again would not help.
   */
  callerCaused?: boolean;
  cause?: unknown;
}

/**
 * The one error type that leaves a provider adapter. Its message is safe to show a client, log and trace:
 * whatever an adapter builds it from, credential-shaped text is scrubbed here (scrubSecrets). The upstream
 * error it came from is kept as `upstream`, not as the standard `cause`, because loggers print a cause chain
 * (with the provider's raw message) next to the error.
 */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  readonly kind: ProviderErrorKind;
  readonly provider: string;
  readonly status: number | undefined;
  readonly providerRequestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly retryable: boolean;
  readonly retriesExhausted: boolean;
  readonly callerCaused: boolean;
  readonly #upstream: unknown;

  constructor(init: ProviderErrorInit) {
    super(scrubSecrets(init.message));
    this.#upstream = init.cause;
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.providerRequestId = init.providerRequestId;
    this.retryAfterMs = init.retryAfterMs;
    this.retryable = init.retryable ?? errorKindTraits[init.kind].retryable;
    this.retriesExhausted = init.retriesExhausted ?? false;
    this.callerCaused = init.callerCaused ?? false;
  }

  /** The error the adapter caught (SDK or network error), unscrubbed: for debugging, never for output. */
  get upstream(): unknown {
    return this.#upstream;
  }

  /** This error with some fields changed (errors are immutable). */
  with(changes: Partial<Omit<ProviderErrorInit, "cause">>): ProviderError {
    return new ProviderError({
      kind: this.kind,
      message: this.message,
      provider: this.provider,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.providerRequestId === undefined ? {} : { providerRequestId: this.providerRequestId }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
      retryable: this.retryable,
      retriesExhausted: this.retriesExhausted,
      callerCaused: this.callerCaused,
      cause: this.#upstream,
      ...changes,
    });
  }

  /** True for a ProviderError of one of the given kinds. */
  static is(value: unknown, ...kinds: ProviderErrorKind[]): value is ProviderError {
    return value instanceof ProviderError && (kinds.length === 0 || kinds.includes(value.kind));
  }
}
