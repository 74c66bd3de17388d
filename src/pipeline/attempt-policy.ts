import type { TimeoutsConfig } from "../config/pipeline-schema.js";
import { type CallContext, detachedContext } from "../providers/call-context.js";
import type { EmbedResult, GenerationResult, Provider, StreamPart } from "../providers/provider.js";
import { type Invoke, providerPolicy, type PolicyCall } from "./provider-policy.js";
import { CallClock, type TimeLimit } from "./resilience/call-clock.js";

/** What one hook is told about an attempt it let through. Every method is optional. */
export interface AttemptWatch {
  /** Each part of a stream, before it goes on to the consumer. */
  part?(part: StreamPart): void;
  /** A unary answer. */
  answer?(result: GenerationResult | EmbedResult): void;
  /** The attempt failed (after the time limits turned a hung call into a `timeout`). */
  fail?(error: unknown): void;
  /** Always last: the attempt is over (also when a stream's consumer stopped reading early). */
  end?(): void;
}

/**
 * One policy's part in every attempt: `begin` runs before the call and may wait (a rate-limit queue) or
 * refuse it (throw: an open circuit, a budget); what it returns is told how the attempt goes.
 */
export interface AttemptHook {
  begin(call: PolicyCall, signal: AbortSignal, context: CallContext | undefined): AttemptWatch | Promise<AttemptWatch>;
}

/** Decides whether a failed attempt is tried again (see retry-policy.ts). */
export interface Retrier {
  /** A call starts (it earns the target's retry budget its share). */
  deposit(): void;
  /**
   * After the failed attempt number `attempt`: throws the error to give up, or records the retry and waits its
   * delay (throwing `cancelled` if the signal aborts meanwhile).
   */
  backOff(error: unknown, attempt: number, model: string, signal: AbortSignal, context?: CallContext): Promise<void>;
}

/** What one target's calls go through. */
export interface AttemptPolicyOptions {
  /** The policies' hooks, outermost first (a rate limiter before the circuit breaker before the record). */
  hooks?: readonly AttemptHook[];
  /** The target's time limits. */
  timeouts?: TimeoutsConfig;
  /** Tries failed attempts again; a stream only until its first part reached the consumer. */
  retry?: Retrier;
}

const hasLimits = (config: TimeoutsConfig | undefined): config is TimeoutsConfig =>
  config !== undefined &&
  (config.firstTokenMs !== undefined || config.idleMs !== undefined || config.totalMs !== undefined);

/**
 * Runs every call of `provider` (one target) as one loop of attempts. Each attempt: the hooks' `begin` in
 * order, then the call under the target's time limits, then what happened told to the hooks innermost first.
 * A stream is one loop over the adapter's parts, each part shown to the hooks in place: no layer of its own
 * per policy. A failed attempt is tried again when `retry` says so.
 *
 * Time limits (`timeouts`): `firstTokenMs` until a unary answer's headers arrive (the provider accepted the
 * call; a later timeout is not retried, since it bills the abandoned call) or until a stream's first part,
 * `idleMs` for each wait between parts, `totalMs` for the whole attempt. When one passes, the upstream call is
 * aborted and the attempt fails with a `timeout` naming the limit; waits for the consumer of a stream do not
 * count against `idleMs`. The caller's own cancel ends the attempt at once as `cancelled`.
 */
export function attemptPolicy(provider: Provider, options: AttemptPolicyOptions): Provider {
  const hooks = options.hooks ?? [];
  const limits = hasLimits(options.timeouts) ? options.timeouts : undefined;
  const retry = options.retry;
  if (hooks.length === 0 && limits === undefined && retry === undefined) return provider;

  const begin = (call: PolicyCall, signal: AbortSignal, context: CallContext | undefined) =>
    beginAll(hooks, call, signal, context);

  const unaryAttempt = async <R extends GenerationResult | EmbedResult>(
    call: PolicyCall,
    signal: AbortSignal,
    context: CallContext | undefined,
    invoke: Invoke<Promise<R>>,
  ): Promise<R> => {
    const watches = await begin(call, signal, context);
    const clock = limits === undefined ? undefined : new CallClock(provider.name, signal, limits);
    try {
      // firstTokenMs ends when the answer's headers arrive (the provider accepted the call), reported by the
      // adapter's fetch through the context: calls outside an RPC (health checks) get a detached one for it.
      return await watchedAnswer(watches, () =>
        clock === undefined
          ? invoke(signal, context)
          : clock.race(
              invoke(clock.signal, { ...(context ?? detachedContext()), onResponseHeaders: () => clock.accepted() }),
              "firstTokenMs",
            ),
      );
    } finally {
      clock?.dispose();
    }
  };

  return providerPolicy(provider, {
    async unary(call, signal, context, invoke) {
      retry?.deposit();
      for (let attempt = 1; ; attempt++) {
        try {
          return await unaryAttempt(call, signal, context, invoke);
        } catch (error) {
          if (retry === undefined) throw error;
          await retry.backOff(error, attempt, call.request.model, signal, context);
        }
      }
    },

    async *stream(call, signal, context, open) {
      retry?.deposit();
      for (let attempt = 1; ; attempt++) {
        let watches: AttemptWatch[];
        try {
          watches = await begin(call, signal, context);
        } catch (error) {
          if (retry === undefined) throw error;
          await retry.backOff(error, attempt, call.request.model, signal, context);
          continue;
        }
        const clock = limits === undefined ? undefined : new CallClock(provider.name, signal, limits);
        let iterator: AsyncIterator<StreamPart> | undefined;
        let waiting = false;
        let finished = false;
        let delivered = false;
        let retried: { error: unknown } | undefined;
        try {
          iterator = open(clock?.signal ?? signal, context)[Symbol.asyncIterator]();
          for (let limit: TimeLimit = "firstTokenMs"; ; limit = "idleMs") {
            waiting = true;
            const next = clock === undefined ? await iterator.next() : await clock.race(iterator.next(), limit);
            waiting = false;
            if (next.done === true) {
              finished = true;
              return;
            }
            for (const watch of watches) watch.part?.(next.value);
            delivered = true;
            yield next.value;
          }
        } catch (error) {
          failAll(watches, error);
          if (delivered || retry === undefined) throw error;
          retried = { error };
        } finally {
          clock?.dispose();
          if (!finished) clock?.abortUpstream();
          try {
            if (waiting) iterator?.return?.().catch(() => undefined);
            else await iterator?.return?.();
          } finally {
            endAll(watches);
          }
        }
        // Only a failure before the first part gets here: the attempt is cleaned up; back off, then try again.
        await retry?.backOff(retried?.error, attempt, call.request.model, signal, context);
      }
    },
  });
}

/**
 * Runs the hooks' `begin` in order and returns their watches innermost first; when one refuses, the ones
 * already begun are told the failure and ended before the error goes on.
 */
export async function beginAll(
  hooks: readonly AttemptHook[],
  call: PolicyCall,
  signal: AbortSignal,
  context: CallContext | undefined,
): Promise<AttemptWatch[]> {
  const watches: AttemptWatch[] = [];
  try {
    for (const hook of hooks) watches.unshift(await hook.begin(call, signal, context));
  } catch (error) {
    failAll(watches, error);
    endAll(watches);
    throw error;
  }
  return watches;
}

/** Runs a unary call under begun watches: told the answer or the failure, then the end. */
export async function watchedAnswer<R extends GenerationResult | EmbedResult>(
  watches: readonly AttemptWatch[],
  run: () => Promise<R>,
): Promise<R> {
  try {
    const result = await run();
    for (const watch of watches) watch.answer?.(result);
    return result;
  } catch (error) {
    failAll(watches, error);
    throw error;
  } finally {
    endAll(watches);
  }
}

/** Tells every watch the attempt failed. */
export function failAll(watches: readonly AttemptWatch[], error: unknown): void {
  for (const watch of watches) watch.fail?.(error);
}

/** Tells every watch the attempt is over. */
export function endAll(watches: readonly AttemptWatch[]): void {
  for (const watch of watches) watch.end?.();
}
