import type { RoutingConfig } from "../../config/pipeline-schema.js";
import type { CallContext } from "../../providers/call-context.js";
import type { StreamPart, TokenUsage } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { type AttemptHook, beginAll, endAll, failAll } from "../attempt-policy.js";
import type { PolicyCall } from "../provider-policy.js";
import type { Continuer, Delivered } from "./continuation-requests.js";
import { fallbackEvent, routeExhaustedError, shouldFallBack, type RouteFailure } from "./route-fallback.js";
import { circuitRefusal, servedBy, type RouteMember } from "./route-member.js";
import type { CallTracker } from "./target-stats.js";

/** One streamed call over a route's targets. */
export interface RoutedStream<R> {
  /** The model name, for errors. */
  route: string;
  /** The targets in the order to try them. */
  members: readonly RouteMember[];
  /** The client's request (its model is set per target by `open`). */
  request: R;
  /** Opens the stream of `request` on a target (setting the target's model). */
  open(member: RouteMember, request: R): AsyncIterable<StreamPart>;
  /** How a target continues a broken stream, if it can. */
  continuation: Continuer<R>;
  routing: RoutingConfig;
  signal: AbortSignal;
  context: CallContext;
  /** The route's hooks, begun once for the whole stream (whichever targets serve it), and what they are told of. */
  hooks: readonly AttemptHook[];
  policyCall: PolicyCall;
}

/** A target that delivered some text and then failed. */
interface PartialAttempt {
  /** Chunks delivered before it started. */
  before: number;
  /** Chunks it delivered. */
  chunks: number;
}

/**
 * Streams over a route's targets. Until the first delta reached the consumer, a failing target is replaced
 * by the next one transparently (the fallback rules of route-fallback.ts; nothing of the failed attempt is
 * sent). After it, `routing.midStream` decides:
 * - `error`: the stream ends with an `unavailable` ProviderError (not retryable) naming the chunks and
 *   characters delivered and the cause. Never a silent clean end.
 * - `continue`: when the error's trigger is in `routing.fallbackOn` (else as `error`), the next target that
 *   can continue (see continuationRequests) is asked for the rest, with the delivered text as context, and
 *   only its new deltas are sent; a continuation target failing before its first delta passes to the next.
 *   The finish part's usage adds the broken attempts' usage, which they never reported: each is estimated as
 *   the continuation's prompt without the text delivered after the attempt started, plus one completion token
 *   per delta it delivered (exact for one-token chunks, an estimate otherwise). `stream_continued` is
 *   recorded and `trace.deliveredText` holds the delivered text. When no target is left to continue, the
 *   stream ends as with `error`, the message adding "no other target can continue it".
 * The caller's cancel ends the stream with the cancel error as it came. The route's hooks (the per-client rate
 * limit) begin before the first target and are shown each part the consumer gets, in place.
 */
export async function* routeStream<R>(call: RoutedStream<R>): AsyncGenerator<StreamPart, void, undefined> {
  const { context, signal, routing } = call;
  const watches = call.hooks.length === 0 ? [] : await beginAll(call.hooks, call.policyCall, signal, context);
  const show = (part: StreamPart): StreamPart => {
    for (const watch of watches) watch.part?.(part);
    return part;
  };
  const trace = context.trace;
  const failures: RouteFailure[] = [];
  const partials: PartialAttempt[] = [];
  const delivered: Delivered = { text: "", chunks: 0 };
  let last: { member: RouteMember; error: ProviderError } | undefined;
  try {
    for (const member of call.members) {
      let request = call.request;
      let skip = "";
      if (delivered.chunks > 0) {
        const plan = call.continuation(member, call.request, delivered);
        if (plan === undefined) continue;
        request = plan.request;
        skip = plan.skipLeading;
        trace.deliveredText = delivered.text;
        if (last !== undefined) {
          trace.record({
            type: "stream_continued",
            fromProvider: last.member.provider.name,
            toProvider: member.provider.name,
            deliveredChars: delivered.text.length,
            reason: last.error.kind,
          });
        }
      } else if (last !== undefined) {
        trace.record(fallbackEvent(last.member, member, last.error));
      }

      const before = delivered.chunks;
      let tracker: CallTracker | undefined;
      try {
        const refusal = circuitRefusal(member);
        if (refusal !== undefined) throw refusal;
        tracker = member.stats.begin();
        for await (const part of call.open(member, request)) {
          tracker.sample();
          if (part.type === "finish") {
            trace.servedBy = servedBy(member);
            yield show(partials.length === 0 ? part : { ...part, usage: continuedUsage(part.usage, before, partials) });
            return;
          }
          let text = part.text;
          if (skip !== "") [text, skip] = skipWhitespace(text, skip);
          if (text === "") continue;
          if (delivered.chunks === before) trace.servedBy = servedBy(member);
          delivered.text += text;
          delivered.chunks++;
          yield show(text === part.text ? part : { type: "delta", text });
        }
        const name = member.provider.name;
        throw new ProviderError({
          kind: "unavailable",
          provider: name,
          message: `${name}: stream ended before it completed`,
        });
      } catch (error) {
        tracker?.end(error);
        if (!(error instanceof ProviderError) || signal.aborted) throw error;
        const allowed = shouldFallBack(error, routing.fallbackOn, signal, context);
        if (delivered.chunks > 0) {
          if (delivered.chunks > before) partials.push({ before, chunks: delivered.chunks - before });
          if (routing.midStream === "error" || !allowed) throw midStreamError(member, delivered, error);
        } else if (!allowed) {
          throw error;
        }
        failures.push({ provider: member.provider.name, model: member.model, error });
        last = { member, error };
      } finally {
        tracker?.end();
      }
    }
    if (delivered.chunks > 0 && last !== undefined) {
      throw midStreamError(last.member, delivered, last.error, "no other target can continue it");
    }
    throw routeExhaustedError(call.route, failures);
  } catch (error) {
    failAll(watches, error);
    throw error;
  } finally {
    endAll(watches);
  }
}

/** The explicit error of a stream that broke after delivering part of its answer. */
function midStreamError(member: RouteMember, delivered: Delivered, cause: ProviderError, note?: string): ProviderError {
  const name = member.provider.name;
  const chunks = `${delivered.chunks} chunk${delivered.chunks === 1 ? "" : "s"}`;
  const chars = `${delivered.text.length} character${delivered.text.length === 1 ? "" : "s"}`;
  const suffix = note === undefined ? "" : `; ${note}`;
  const message = `${name}: stream failed after ${chunks} (${chars}) were delivered: ${cause.message}${suffix}`;
  return new ProviderError({ kind: "unavailable", provider: name, message, retryable: false, cause });
}

/** Drops up to `pending.length` leading whitespace characters of `text`; returns the text and what is still pending. */
function skipWhitespace(text: string, pending: string): [string, string] {
  let index = 0;
  while (index < text.length && index < pending.length && /\s/.test(text.charAt(index))) index++;
  const rest = text.slice(index);
  return [rest, rest === "" ? pending.slice(index) : ""];
}

/** The continuation's usage plus the estimated usage of the attempts that broke after delivering text. */
function continuedUsage(final: TokenUsage, before: number, partials: readonly PartialAttempt[]): TokenUsage {
  const basePrompt = Math.max(0, final.promptTokens - before);
  let promptTokens = final.promptTokens;
  let completionTokens = final.completionTokens;
  for (const partial of partials) {
    promptTokens += basePrompt + partial.before;
    completionTokens += partial.chunks;
  }
  return { ...final, promptTokens, completionTokens, totalTokens: promptTokens + completionTokens };
}
