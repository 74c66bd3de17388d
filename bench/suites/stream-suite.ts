import type { Measured, Scenario } from "../report/bench-report.js";
import { connectStreams, grpcStreams, sseStreams, type StreamConnectionFactory } from "../load/stream-requesters.js";
import { runStreamLoop, type StreamLoadResult } from "../load/stream-load.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import type { BenchContext } from "./bench-context.js";
import { sampledRun, type SampledRun } from "./sampled-run.js";
import { buildScenario } from "./scenario-builder.js";

/** 63 words: answers of 64 chunks ("Echo:" and the words), sent by the emulator as fast as it can. */
const streamShape = { prompt: promptOfWords(63) };

/** The two table lines of one stream run: first chunk (streams/s, TTFC) and last chunk (chunks/s, TTLC). */
function measuredStreams(
  run: SampledRun<StreamLoadResult>,
  side: "gateway" | "direct",
): { first: Measured; last: Measured } {
  const { result } = run;
  const ops = Math.max(1, result.streams + result.errors);
  const cpuMs = side === "gateway" ? run.gatewayCpuMs : run.emulatorCpuMs;
  const common = {
    driver: result.driver,
    ops: result.streams,
    errors: result.errors,
    cpuMsPerOp: cpuMs / ops,
    rssMb: side === "gateway" ? run.gatewayPeakRssMb : run.emulatorPeakRssMb,
    extra: {
      chunksPerStream: result.chunksPerStream,
      cpuMsPerChunk: cpuMs / Math.max(1, result.chunksPerStream * result.streams),
    },
  };
  return {
    first: { ...common, throughput: result.streams / result.durationS, latencyMs: result.ttfcMs },
    last: { ...common, throughput: result.chunksPerS, latencyMs: result.ttlcMs },
  };
}

async function streamRun(
  context: BenchContext,
  factory: StreamConnectionFactory,
  connections: number,
): Promise<SampledRun<StreamLoadResult>> {
  const warm = await runStreamLoop(factory, connections, Math.max(context.options.warmupS, 0.05) * 1000);
  if (warm.errors > 0 || warm.streams === 0)
    throw new Error(`stream warm-up: ${warm.errors} failed, ${warm.streams} complete`);
  return sampledRun(context.gateway.child, context.emulator.child, () =>
    runStreamLoop(factory, connections, context.options.durationS * 1000),
  );
}

/**
 * Streaming chat: streams of 64 chunks back to back on 1 and 16 connections, straight at the emulator (OpenAI
 * SSE) and through the gateway (Connect streaming over HTTP/1.1, gRPC over HTTP/2). Time to first content
 * chunk and to the end of the stream, per stream; chunks per second over the run; gateway CPU per stream.
 */
export async function streamSuite(context: BenchContext): Promise<Scenario[]> {
  const { options, emulator, gateway } = context;
  const sides = {
    direct: sseStreams(emulator.url, benchPayloads.directChat(streamShape, true)),
    connect: connectStreams(gateway.url, benchPayloads.connectStreamChat(streamShape)),
    grpc: grpcStreams(gateway.url, benchPayloads.grpcChat(streamShape, true)),
  };
  const scenarios: Scenario[] = [];
  for (const connections of options.quick ? [1] : [1, 16]) {
    const runs = {
      direct: [] as { first: Measured; last: Measured }[],
      connect: [] as { first: Measured; last: Measured }[],
      grpc: [] as { first: Measured; last: Measured }[],
    };
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      for (const side of ["direct", "connect", "grpc"] as const) {
        context.log(`stream c${connections} (${repeat + 1}/${options.repeat}): ${side}`);
        runs[side].push(
          measuredStreams(await streamRun(context, sides[side], connections), side === "direct" ? "direct" : "gateway"),
        );
      }
    }
    for (const [side, wire] of [
      ["connect", "Connect/HTTP1.1"],
      ["grpc", "gRPC/HTTP2"],
    ] as const) {
      const name = `StreamChat, ${wire}, ${connections} conn`;
      const id = `stream/${side === "connect" ? "connect-json" : "grpc"}/c${connections}`;
      scenarios.push(
        buildScenario(
          { suite: "stream", id: `${id}/first`, name, throughputUnit: "streams/s", latencyLabel: "TTFC" },
          runs[side].map((r) => r.first),
          runs.direct.map((r) => r.first),
        ),
        buildScenario(
          { suite: "stream", id: `${id}/last`, name, throughputUnit: "chunks/s", latencyLabel: "TTLC" },
          runs[side].map((r) => r.last),
          runs.direct.map((r) => r.last),
        ),
      );
    }
  }
  return scenarios;
}
