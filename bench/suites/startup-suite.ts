import type { BenchOptions } from "../bench-options.js";
import { Http1Connection, http1RequestBytes } from "../load/http1-connection.js";
import type { StartupFigures } from "../report/bench-report.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import { startGatewayChild, type GatewayStart } from "../setup/bench-processes.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number): number => bytes / (1024 * 1024);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** One fresh gateway process: spawn to listening, to its first answer; RSS before and after a few requests. */
async function startOnce(start: GatewayStart, idleMs: number): Promise<StartupFigures> {
  const gateway = await startGatewayChild(start);
  try {
    const idle = await gateway.child.stats();
    const target = new URL(gateway.url);
    const connection = new Http1Connection(target.hostname, Number(target.port));
    const request = http1RequestBytes(
      target.host,
      benchPayloads.connectChat({ prompt: promptOfWords(24), maxTokens: 16 }),
    );
    await connection.connect();
    const first = await connection.send(request);
    const answeredAt = performance.now();
    if (first.status !== 200) throw new Error(`start-up: the first chat answered HTTP ${first.status}`);
    for (let i = 0; i < 20; i++) await connection.send(request);
    connection.close();
    await sleep(idleMs);
    const rested = await gateway.child.stats();
    return {
      spawnToFirstAnswerMs: answeredAt - gateway.child.spawnedAt,
      spawnToListeningMs: gateway.ready.receivedAt - gateway.child.spawnedAt,
      processStartToListeningMs: gateway.ready.sinceProcessStartMs,
      idleRssMb: mb(idle.rssBytes),
      idleAfterRequestsRssMb: mb(rested.rssBytes),
    };
  } finally {
    await gateway.child.stop();
  }
}

/**
 * Start-up and idle memory of a fresh gateway process (the full-pipeline config, through the CLI), medians over
 * the repeats: from spawn until it listens and until its first chat is answered; its RSS when it starts
 * serving, and at rest after its first requests.
 */
export async function startupSuite(
  start: GatewayStart,
  options: BenchOptions,
  log: (message: string) => void,
): Promise<StartupFigures> {
  const runs: StartupFigures[] = [];
  for (let repeat = 0; repeat < Math.max(options.repeat, options.quick ? 1 : 3); repeat++) {
    log(`start-up (${repeat + 1})`);
    runs.push(await startOnce(start, options.quick ? 200 : 1_000));
  }
  const pick = (key: keyof StartupFigures): number => median(runs.map((r) => r[key]));
  return {
    spawnToFirstAnswerMs: pick("spawnToFirstAnswerMs"),
    spawnToListeningMs: pick("spawnToListeningMs"),
    processStartToListeningMs: pick("processStartToListeningMs"),
    idleRssMb: pick("idleRssMb"),
    idleAfterRequestsRssMb: pick("idleAfterRequestsRssMb"),
  };
}
