/**
 * Now, in epoch milliseconds on the performance timeline: the one clock of the gateway's own timestamps (request
 * summaries, attempt records, the RPC span and the spans under it). Monotonic within the process, so durations
 * are exact; it may drift from Date.now() while the system clock is slewed, which is why spans must not mix it
 * with the SDK's Date.now()-anchored default.
 */
export function gatewayNow(): number {
  return performance.timeOrigin + performance.now();
}
