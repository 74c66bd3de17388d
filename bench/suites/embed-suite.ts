import type { Measured, Scenario } from "../report/bench-report.js";
import { benchPayloads, promptOfWords } from "../setup/bench-payloads.js";
import type { BenchContext } from "./bench-context.js";
import { buildScenario, measuredLoad } from "./scenario-builder.js";
import { runUnaryLoad, type UnaryLoad } from "./unary-load.js";

/**
 * Embeddings: one 24-word input (a 1536-float vector back) at 16 connections, straight at the emulator's
 * /v1/embeddings and through the gateway as Connect JSON.
 */
export async function embedSuite(context: BenchContext): Promise<Scenario[]> {
  const text = promptOfWords(24);
  const load: UnaryLoad = { kind: "connections", connections: 16 };
  const runs: { direct: Measured[]; gateway: Measured[] } = { direct: [], gateway: [] };
  for (let repeat = 0; repeat < context.options.repeat; repeat++) {
    context.log(`embed c16 (${repeat + 1}/${context.options.repeat}): direct, gateway`);
    runs.direct.push(
      measuredLoad(
        await runUnaryLoad(context, context.emulator, "http1", benchPayloads.directEmbed(text), load),
        "direct",
      ),
    );
    runs.gateway.push(
      measuredLoad(
        await runUnaryLoad(context, context.gateway, "http1", benchPayloads.connectEmbed(text), load),
        "gateway",
      ),
    );
  }
  return [
    buildScenario(
      {
        suite: "embed",
        id: "embed/connect-json/c16",
        name: "Embed (1536 floats), Connect JSON/HTTP1.1, 16 conn",
        throughputUnit: "req/s",
        latencyLabel: "latency",
      },
      runs.gateway,
      runs.direct,
    ),
  ];
}
