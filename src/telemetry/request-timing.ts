import type { AttemptRecord } from "../providers/call-context.js";
import type { RequestSummary } from "./request-summary.js";

/** Where a request's wall time went. */
export interface RequestTiming {
  /** Wall time of the whole request, in milliseconds. */
  totalMs: number;
  /** Time during which at least one provider attempt was running (overlapping attempts count once). */
  providerMs: number;
  /** The rest: routing, rate-limit queues, retry back-off, serialization. Never negative. */
  addedMs: number;
  /** Streams: request start to the first delta sent, in milliseconds. */
  timeToFirstChunkMs: number | undefined;
}

/** Splits a request's wall time into time inside provider attempts and the gateway's own added latency. */
export function requestTiming(summary: RequestSummary): RequestTiming {
  const totalMs = Math.max(0, summary.endedAt - summary.startedAt);
  const intervals = summary.trace.events
    .filter((e): e is AttemptRecord => e.type === "attempt")
    .map(
      (a) =>
        [Math.max(a.startedAt, summary.startedAt), Math.min(attemptEnd(a, summary.endedAt), summary.endedAt)] as const,
    )
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  let providerMs = 0;
  let coveredUntil = -Infinity;
  for (const [start, end] of intervals) {
    if (end <= coveredUntil) continue;
    providerMs += end - Math.max(start, coveredUntil);
    coveredUntil = end;
  }
  return {
    totalMs,
    providerMs,
    addedMs: Math.max(0, totalMs - providerMs),
    timeToFirstChunkMs:
      summary.firstChunkAt === undefined ? undefined : Math.max(0, summary.firstChunkAt - summary.startedAt),
  };
}

/** An attempt still running when the request ended (endedAt 0) is counted until the request's end. */
export function attemptEnd(attempt: AttemptRecord, requestEnd: number): number {
  return attempt.endedAt > 0 ? attempt.endedAt : requestEnd;
}
