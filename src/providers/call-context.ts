import type { ProviderType } from "../config/provider-type.js";
import type { FinishReason, TokenUsage } from "./provider.js";
import type { ProviderErrorKind } from "./provider-error.js";

/** The operation a provider call performs, as the GenAI semantic conventions name it. */
export type Operation = "chat" | "text_completion" | "embeddings";

/**
 * One call to a provider adapter, recorded by the innermost policy: the raw material of attempt spans,
 * metrics and logs. Times are `Date.now()`-style epoch milliseconds with sub-millisecond precision.
 */
export interface AttemptRecord {
  type: "attempt";
  provider: string;
  providerType: ProviderType;
  /** The requested provider model (Azure: deployment). */
  model: string;
  operation: Operation;
  stream: boolean;
  startedAt: number;
  endedAt: number;
  /** Streams: when the first part arrived. */
  firstChunkAt?: number;
  /** Streams: text parts received. */
  chunks: number;
  maxTokens?: number;
  /** The model that answered, as the provider reported it. */
  responseModel?: string;
  usage?: TokenUsage;
  finishReason?: FinishReason;
  error?: { kind: ProviderErrorKind; message: string };
}

/** Something the pipeline did while serving a call, in order, for metadata, logs and traces. */
export type PipelineEvent =
  | AttemptRecord
  /** A request waited in a rate-limit queue. */
  | { type: "queued"; limiter: string; waitedMs: number }
  /** A failed attempt will be retried on the same target after `delayMs`. */
  | { type: "retry"; provider: string; model: string; attempt: number; delayMs: number; reason: ProviderErrorKind }
  /** A target failed (or its circuit is open) and the next target is tried. */
  | {
      type: "fallback";
      fromProvider: string;
      fromModel: string;
      toProvider: string;
      toModel: string;
      reason: ProviderErrorKind | "circuit_open";
    }
  /** A stream that failed after delivering `deliveredChars` characters continues on another target. */
  | {
      type: "stream_continued";
      fromProvider: string;
      toProvider: string;
      deliveredChars: number;
      reason: ProviderErrorKind;
    };

/** The target that answered. */
export interface ServedBy {
  provider: string;
  providerType: ProviderType;
  model: string;
}

/**
 * What the pipeline records about one call as it runs: attempts made, events, and the target that served.
 * The gateway reads it to fill the response metadata.
 */
export class CallTrace {
  readonly events: PipelineEvent[] = [];
  servedBy: ServedBy | undefined;
  /** Output already delivered to the client by earlier targets of a continued stream. */
  deliveredText = "";

  record(event: PipelineEvent): void {
    this.events.push(event);
  }

  /** Calls made to provider adapters, across retries and fallbacks. */
  get attempts(): number {
    let count = 0;
    for (const event of this.events) if (event.type === "attempt") count += 1;
    return count;
  }

  /** The attempts recorded so far, in order. */
  attemptRecords(): AttemptRecord[] {
    return this.events.filter((e): e is AttemptRecord => e.type === "attempt");
  }
}

/**
 * The money side of a call, told about each attempt by the attempt recorder: before it (to top up the budget
 * reservation to what the attempt can cost) and after it (to bill what the provider may charge).
 */
export interface AttemptAccount {
  /** Resolves when the attempt fits the call's budgets; throws `budget_exceeded` otherwise. */
  beforeAttempt(
    providerType: ProviderType,
    model: string,
    maxTokens: number | undefined,
    extraPromptChars: number,
  ): Promise<void>;
  /** Bills an ended attempt (a stream's delivered text, for one that broke before reporting usage). */
  bill(record: AttemptRecord, deliveredText: string): void;
}

/** Per-caller rate limits that replace pipeline.rateLimiting's for this call (a client key's own). */
export interface CallerLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/**
 * What a provider call knows of its caller beyond the AbortSignal. Adapters ignore it; pipeline policies read
 * the deadline (never retry or queue past it), the client identity (per-client limits) and write the trace.
 */
export interface CallContext {
  /** When the client's deadline passes, as a `Date.now()` timestamp; undefined when it set none. */
  deadline: number | undefined;
  /** The caller's identity for per-client limits; "" when unknown. */
  clientId: string;
  /** The caller's own limits (a client key's), when it has them. */
  clientLimits?: CallerLimits | undefined;
  /** Bills the call's attempts and holds its budgets; absent for calls outside an RPC. */
  account?: AttemptAccount | undefined;
  trace: CallTrace;
  /**
   * Called once when the upstream answer's headers arrive: the provider has accepted the call (and will bill
   * it). Set by the timeout policy for unary calls, whose `firstTokenMs` ends there.
   */
  onResponseHeaders?: (() => void) | undefined;
}

/** A context for calls made outside an RPC (health checks, tests): no deadline, no client. */
export function detachedContext(): CallContext {
  return { deadline: undefined, clientId: "", trace: new CallTrace() };
}
