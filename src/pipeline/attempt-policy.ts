import type { TimeoutsConfig } from "../config/pipeline-schema.js";
import { type CallContext, detachedContext } from "../providers/call-context.js";
import type { EmbedResult, GenerationResult, Provider, StreamPart } from "../providers/provider.js";
import { providerPolicy, type PolicyCall } from "./provider-policy.js";
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

const hasLimits = (config: TimeoutsConfig | undefined): config is TimeoutsConfig =>
  config !== undefined &&
  (config.firstTokenMs !== undefined || config.idleMs !== undefined || config.totalMs !== undefined);

/**
 * Runs every call of `provider` (one target) as one attempt: the hooks' `begin` in order (the first is the
 * outermost: a rate limiter before the circuit breaker before the attempt record), then the call under the
 * target's time limits, then what happened told to the hooks innermost first. A stream is one loop over the
 * adapter's parts, each part shown to the hooks in place: no layer of its own per policy.
 *
 * Time limits (`timeouts`): `firstTokenMs` until a unary answer's headers arrive (the provider accepted the
 * call; a later timeout is not retried, since it bills the abandoned call) or until a stream's first part,
 * `idleMs` for each wait between parts, `totalMs` for the whole call. When one passes, the upstream call is
 * aborted and the attempt fails with a `timeout` naming the limit; waits for the consumer of a stream do not
 * count against `idleMs`. The caller's own cancel ends the attempt at once as `cancelled`.
 */
export function attemptPolicy(provider: Provider, hooks: readonly AttemptHook[], timeouts?: TimeoutsConfig): Provider {
  const limits = hasLimits(timeouts) ? timeouts : undefined;
  if (hooks.length === 0 && limits === undefined) return provider;

  const begin = async (call: PolicyCall, signal: AbortSignal, context: CallContext | undefined) => {
    const watches: AttemptWatch[] = [];
    try {
      for (const hook of hooks) watches.unshift(await hook.begin(call, signal, context));
    } catch (error) {
      failAll(watches, error);
      endAll(watches);
      throw error;
    }
    return watches;
  };

  return providerPolicy(provider, {
    async unary(call, signal, context, invoke) {
      const watches = await begin(call, signal, context);
      const clock = limits === undefined ? undefined : new CallClock(provider.name, signal, limits);
      try {
        // firstTokenMs ends when the answer's headers arrive (the provider accepted the call), reported by the
        // adapter's fetch through the context: calls outside an RPC (health checks) get a detached one for it.
        const result =
          clock === undefined
            ? await invoke(signal, context)
            : await clock.race(
                invoke(clock.signal, { ...(context ?? detachedContext()), onResponseHeaders: () => clock.accepted() }),
                "firstTokenMs",
              );
        for (const watch of watches) watch.answer?.(result);
        return result;
      } catch (error) {
        failAll(watches, error);
        throw error;
      } finally {
        clock?.dispose();
        endAll(watches);
      }
    },

    async *stream(call, signal, context, open) {
      const watches = await begin(call, signal, context);
      const clock = limits === undefined ? undefined : new CallClock(provider.name, signal, limits);
      let iterator: AsyncIterator<StreamPart> | undefined;
      let waiting = false;
      let finished = false;
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
          yield next.value;
        }
      } catch (error) {
        failAll(watches, error);
        throw error;
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
    },
  });
}

function failAll(watches: readonly AttemptWatch[], error: unknown): void {
  for (const watch of watches) watch.fail?.(error);
}

function endAll(watches: readonly AttemptWatch[]): void {
  for (const watch of watches) watch.end?.();
}
