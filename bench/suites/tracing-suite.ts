import type { Measured, Scenario } from "../report/bench-report.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import { startGatewayChild, type GatewayStart } from "../setup/bench-processes.js";
import { OtlpSink } from "../setup/otlp-sink.js";
import type { BenchContext } from "./bench-context.js";
import { buildScenario, measuredLoad } from "./scenario-builder.js";
import { runUnaryLoad, type UnaryLoad } from "./unary-load.js";

/**
 * The unary chat row at 16 connections with tracing on: a second gateway whose OTEL_* environment exports
 * every span (RPC span, attempt spans; sampler always on) over OTLP/HTTP protobuf to a local receiver.
 */
export async function tracingSuite(context: BenchContext, start: GatewayStart): Promise<Scenario[]> {
  const sink = await OtlpSink.start();
  const traced = await startGatewayChild({
    ...start,
    env: {
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${sink.url}/v1/traces`,
      OTEL_TRACES_SAMPLER: "always_on",
    },
  });
  const tracedContext: BenchContext = { ...context, gateway: traced };
  const shape = { prompt: promptOfWords(24), maxTokens: 16 };
  const load: UnaryLoad = { kind: "connections", connections: 16 };
  const runs: { direct: Measured[]; gateway: Measured[] } = { direct: [], gateway: [] };
  try {
    for (let repeat = 0; repeat < context.options.repeat; repeat++) {
      context.log(`tracing c16 (${repeat + 1}/${context.options.repeat}): direct, gateway`);
      runs.direct.push(
        measuredLoad(
          await runUnaryLoad(tracedContext, context.emulator, "http1", benchPayloads.directChat(shape), load),
          "direct",
        ),
      );
      runs.gateway.push(
        measuredLoad(
          await runUnaryLoad(tracedContext, traced, "http1", benchPayloads.connectChat(shape), load),
          "gateway",
        ),
      );
    }
  } finally {
    await traced.child.stop();
    await sink.close();
  }
  const scenario = buildScenario(
    {
      suite: "tracing",
      id: "tracing/connect-json/c16",
      name: "Chat + tracing (OTLP export), Connect JSON, 16 conn",
      throughputUnit: "req/s",
      latencyLabel: "latency",
    },
    runs.gateway,
    runs.direct,
  );
  scenario.note = `${sink.exports} OTLP exports, ${Math.round(sink.bytes / 1024)} KB received`;
  return [scenario];
}
