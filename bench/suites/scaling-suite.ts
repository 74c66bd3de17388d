import { OpenStreams } from "../load/open-streams.js";
import type { Measured, Scenario } from "../report/bench-report.js";
import { benchModels } from "../setup/bench-config.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import type { BenchContext } from "./bench-context.js";
import { sampledRun } from "./sampled-run.js";
import { buildScenario } from "./scenario-builder.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** 63 words: a stream of 64 chunk delays, longer than the ramp-up and the measurement. */
const slowShape = { prompt: promptOfWords(63) };

/**
 * Open streams against a slow upstream (one chunk per stream every `slowChunkDelayMs`, 5 s by default): for
 * 1, 100, 1,000 and 5,000 gRPC streams held open at once, the gateway's CPU to open each stream, its CPU per
 * chunk relayed in the steady state (a window of two chunk delays; the CPU the gateway burns idle, measured
 * first, is subtracted), its peak RSS with them open, and its RSS once they are cancelled.
 */
export async function scalingSuite(context: BenchContext): Promise<Scenario[]> {
  const { options, gateway, emulator } = context;
  const spec = benchPayloads.grpcChat(slowShape, true, benchModels.slow.name);
  const windowMs = Math.max(options.durationS * 1000, 2 * options.slowChunkDelayMs);
  const idle = await sampledRun(gateway.child, emulator.child, () => sleep(options.quick ? 500 : 2_000));
  const idleCpuMsPerS = idle.gatewayCpuMs / (options.quick ? 0.5 : 2);
  const scenarios: Scenario[] = [];
  for (const count of options.openStreams) {
    const runs: Measured[] = [];
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      context.log(`scaling: ${count} open streams (${repeat + 1}/${options.repeat})`);
      const ramp = await sampledRun(gateway.child, emulator.child, () =>
        OpenStreams.open(gateway.url, spec, count, 100, options.quick ? 15_000 : 60_000),
      );
      const { streams, opened } = ramp.result;
      try {
        const before = streams.messages;
        const steady = await sampledRun(gateway.child, emulator.child, () => sleep(windowMs));
        const chunks = streams.messages - before;
        const endedEarly = streams.ended;
        streams.close();
        await sleep(options.quick ? 500 : 2_000);
        const after = await gateway.child.stats();
        runs.push({
          driver: "node-http2",
          throughput: chunks / (windowMs / 1000),
          latencyMs: opened.ttfcMs,
          ops: chunks,
          errors: opened.requested - opened.started + endedEarly,
          cpuMsPerOp: Math.max(0, steady.gatewayCpuMs - (idleCpuMsPerS * windowMs) / 1000) / Math.max(1, chunks),
          rssMb: Math.max(ramp.gatewayPeakRssMb, steady.gatewayPeakRssMb),
          extra: {
            streamsStarted: opened.started,
            rampMs: opened.rampMs,
            cpuMsPerStreamOpen: ramp.gatewayCpuMs / count,
            cpuPercentOfOneCore: steady.gatewayCpuMs / (windowMs / 100),
            idleCpuPercentOfOneCore: idleCpuMsPerS / 10,
            rssAfterCloseMb: after.rssBytes / (1024 * 1024),
            upstreamCpuMsPerChunk: steady.emulatorCpuMs / Math.max(1, chunks),
          },
        });
      } finally {
        streams.close();
      }
    }
    scenarios.push(
      buildScenario(
        {
          suite: "scaling",
          id: `scaling/streams/${count}`,
          name: `${count} open gRPC streams, upstream 1 chunk/${options.slowChunkDelayMs / 1000} s each`,
          throughputUnit: "chunks/s",
          latencyLabel: "TTFC",
          note: "CPU per chunk relayed (above idle); RSS peak with the streams open",
        },
        runs,
        [],
      ),
    );
  }
  return scenarios;
}
