import { LatencySamples, type DriverName, type LatencyMs } from "./load-result.js";
import type { StreamConnectionFactory } from "./stream-requesters.js";

/** What a streaming run measured. */
export interface StreamLoadResult {
  driver: DriverName;
  /** Streams that completed with content and a clean end. */
  streams: number;
  errors: number;
  durationS: number;
  /** Content chunks received per second, over all connections. */
  chunksPerS: number;
  chunksPerStream: number;
  ttfcMs: LatencyMs;
  ttlcMs: LatencyMs;
}

/** `concurrency` connections each running streams back to back for `durationMs`; times per stream. */
export async function runStreamLoop(
  factory: StreamConnectionFactory,
  concurrency: number,
  durationMs: number,
): Promise<StreamLoadResult> {
  const connections = await Promise.all(Array.from({ length: concurrency }, () => factory.open()));
  const ttfc = new LatencySamples();
  const ttlc = new LatencySamples();
  let errors = 0;
  let chunks = 0;
  const started = performance.now();
  const endAt = started + durationMs;
  let ended = started;
  await Promise.all(
    connections.map(async (connection) => {
      while (performance.now() < endAt) {
        const timing = await connection.stream().catch(() => undefined);
        const doneAt = performance.now();
        if (doneAt > endAt && ttlc.length > 0) break;
        ended = Math.max(ended, doneAt);
        if (timing?.ok === true) {
          ttfc.add(timing.ttfcMs);
          ttlc.add(timing.ttlcMs);
          chunks += timing.chunks;
        } else {
          errors++;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    }),
  );
  for (const connection of connections) connection.close();
  const durationS = (ended - started) / 1000;
  return {
    driver: factory.driver,
    streams: ttlc.length,
    errors,
    durationS,
    chunksPerS: chunks / durationS,
    chunksPerStream: ttlc.length === 0 ? 0 : chunks / ttlc.length,
    ttfcMs: ttfc.summary(),
    ttlcMs: ttlc.summary(),
  };
}
