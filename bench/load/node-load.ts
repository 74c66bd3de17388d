import type { LoadResult } from "./load-result.js";
import { LatencySamples } from "./load-result.js";
import type { Requester, RequesterFactory } from "./node-requesters.js";

async function openAll(factory: RequesterFactory, count: number): Promise<Requester[]> {
  return Promise.all(Array.from({ length: count }, () => factory.open()));
}

/**
 * Closed-loop load from the Node driver: `concurrency` connections, each sending its next request as soon as
 * the previous answer arrived, for `durationMs`. Latency is per request; requests still running at the end
 * are waited for but not counted, except a connection's first: a window shorter than one answer (a quick run
 * on a busy machine) still measures one request per connection, over the longer time it took.
 */
export async function runClosedLoop(
  factory: RequesterFactory,
  concurrency: number,
  durationMs: number,
): Promise<LoadResult> {
  const connections = await openAll(factory, concurrency);
  const samples = new LatencySamples();
  let errors = 0;
  const started = performance.now();
  const endAt = started + durationMs;
  let ended = started;
  await Promise.all(
    connections.map(async (connection) => {
      let answered = 0;
      while (performance.now() < endAt || answered === 0) {
        const sentAt = performance.now();
        let ok = false;
        try {
          ok = await connection.send();
        } catch {
          ok = false;
        }
        const doneAt = performance.now();
        if (doneAt > endAt && answered > 0) break;
        answered++;
        ended = Math.max(ended, doneAt);
        if (ok) samples.add(doneAt - sentAt);
        else errors++;
        if (!ok) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }),
  );
  for (const connection of connections) connection.close();
  const durationS = (Math.max(ended, endAt) - started) / 1000;
  return {
    driver: factory.driver,
    requests: samples.length,
    errors,
    durationS,
    rps: samples.length / durationS,
    latencyMs: samples.summary(),
  };
}

/**
 * A warm-up (and a check): `concurrency` connections send requests for `durationMs`, each at least one,
 * however long the first takes (start-up work, JIT). Returns the calls that succeeded and failed.
 */
export async function warmUp(
  factory: RequesterFactory,
  concurrency: number,
  durationMs: number,
): Promise<{ ok: number; failed: number }> {
  const connections = await openAll(factory, concurrency);
  const endAt = performance.now() + durationMs;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    connections.map(async (connection) => {
      do {
        if (await connection.send().catch(() => false)) ok++;
        else failed++;
      } while (performance.now() < endAt && failed === 0);
    }),
  );
  for (const connection of connections) connection.close();
  return { ok, failed };
}

/**
 * Open-loop load at a fixed request rate: request i is due at start + i / rate whatever happened before (no
 * coordinated omission: latency counts from when it was due), sent on an idle connection, up to
 * `maxConnections` of them; beyond that it waits for one, and the wait counts in its latency.
 */
export async function runFixedRate(
  factory: RequesterFactory,
  rate: number,
  durationMs: number,
  maxConnections: number,
): Promise<LoadResult> {
  const idle: Requester[] = await openAll(factory, Math.min(8, maxConnections));
  const all = [...idle];
  const waiting: number[] = [];
  const samples = new LatencySamples();
  let errors = 0;
  let opening = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const total = Math.floor((rate * durationMs) / 1000);

  const run = (connection: Requester, dueAt: number): void => {
    const call = connection
      .send()
      .catch(() => false)
      .then((ok) => {
        if (ok) samples.add(performance.now() - dueAt);
        else errors++;
        const next = waiting.shift();
        if (next === undefined) idle.push(connection);
        else run(connection, next);
      });
    inFlight.add(call);
    void call.finally(() => inFlight.delete(call));
  };
  const dispatch = (dueAt: number): void => {
    const connection = idle.pop();
    if (connection !== undefined) {
      run(connection, dueAt);
      return;
    }
    waiting.push(dueAt);
    if (all.length + opening < maxConnections) {
      opening++;
      void factory.open().then((opened) => {
        opening--;
        all.push(opened);
        const next = waiting.shift();
        if (next === undefined) idle.push(opened);
        else run(opened, next);
      });
    }
  };

  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && started + (sent * 1000) / rate <= now) {
      dispatch(started + (sent * 1000) / rate);
      sent++;
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  while (inFlight.size > 0 || waiting.length > 0)
    await Promise.race([...inFlight, new Promise((resolve) => setTimeout(resolve, 5))]);
  for (const connection of all) connection.close();
  const durationS = (performance.now() - started) / 1000;
  return {
    driver: factory.driver,
    requests: samples.length,
    errors,
    durationS,
    rps: samples.length / durationS,
    latencyMs: samples.summary(),
  };
}
