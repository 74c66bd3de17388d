import type { Measured, Scenario } from "../report/bench-report.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import type { BenchContext } from "./bench-context.js";
import { buildScenario, measuredLoad } from "./scenario-builder.js";
import { loadLabel, runUnaryLoad, type UnaryLoad } from "./unary-load.js";

/** The unary chat of every row: a short user message, a 16-token answer. */
const unaryShape = { prompt: promptOfWords(24), maxTokens: 16 };

/**
 * Unary chat at each concurrency and at the fixed rate: straight at the emulator (OpenAI JSON over HTTP/1.1),
 * through the gateway as Connect JSON over HTTP/1.1, and as gRPC over HTTP/2. Within a repeat the three run
 * back to back, so each ratio compares runs a few seconds apart; the direct run is shared by both protocols.
 */
export async function unarySuite(context: BenchContext): Promise<Scenario[]> {
  const { options } = context;
  const loads: UnaryLoad[] = [
    ...options.concurrencies.map((connections): UnaryLoad => ({ kind: "connections", connections })),
    { kind: "rate", perSecond: options.rate },
  ];
  const direct = benchPayloads.directChat(unaryShape);
  const connect = benchPayloads.connectChat(unaryShape);
  const grpc = benchPayloads.grpcChat(unaryShape);
  const scenarios: Scenario[] = [];
  for (const load of loads) {
    const label = loadLabel(load);
    const runs: { direct: Measured[]; connect: Measured[]; grpc: Measured[] } = { direct: [], connect: [], grpc: [] };
    for (let repeat = 0; repeat < options.repeat; repeat++) {
      context.log(`unary ${label} (${repeat + 1}/${options.repeat}): direct`);
      runs.direct.push(measuredLoad(await runUnaryLoad(context, context.emulator, "http1", direct, load), "direct"));
      context.log(`unary ${label} (${repeat + 1}/${options.repeat}): gateway, Connect JSON`);
      runs.connect.push(measuredLoad(await runUnaryLoad(context, context.gateway, "http1", connect, load), "gateway"));
      context.log(`unary ${label} (${repeat + 1}/${options.repeat}): gateway, gRPC`);
      runs.grpc.push(measuredLoad(await runUnaryLoad(context, context.gateway, "grpc", grpc, load), "gateway"));
    }
    const what = load.kind === "connections" ? `${load.connections} conn` : `${load.perSecond} req/s fixed`;
    scenarios.push(
      buildScenario(
        {
          suite: "unary",
          id: `unary/connect-json/${label}`,
          name: `Chat, Connect JSON/HTTP1.1, ${what}`,
          throughputUnit: "req/s",
          latencyLabel: "latency",
        },
        runs.connect,
        runs.direct,
      ),
      buildScenario(
        {
          suite: "unary",
          id: `unary/grpc/${label}`,
          name: `Chat, gRPC/HTTP2, ${what}`,
          throughputUnit: "req/s",
          latencyLabel: "latency",
        },
        runs.grpc,
        runs.direct,
      ),
    );
  }
  return scenarios;
}
