import type { Measured, Scenario } from "../report/bench-report.js";
import { benchPayloads, promptOfBytes } from "../setup/bench-payloads.js";
import type { BenchContext } from "./bench-context.js";
import { buildScenario, measuredLoad } from "./scenario-builder.js";
import { runUnaryLoad, type UnaryLoad } from "./unary-load.js";

function sizeLabel(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MB` : `${bytes / 1024} KB`;
}

/**
 * How cost grows with the prompt: unary chat (16-token answer) with a 1 KB, 100 KB and 1 MB user message, one
 * connection, straight at the emulator and through the gateway as Connect JSON.
 */
export async function promptSuite(context: BenchContext): Promise<Scenario[]> {
  const load: UnaryLoad = { kind: "connections", connections: 1 };
  const scenarios: Scenario[] = [];
  for (const bytes of context.options.promptBytes) {
    const shape = { prompt: promptOfBytes(bytes), maxTokens: 16 };
    const runs: { direct: Measured[]; gateway: Measured[] } = { direct: [], gateway: [] };
    for (let repeat = 0; repeat < context.options.repeat; repeat++) {
      context.log(`prompt ${sizeLabel(bytes)} (${repeat + 1}/${context.options.repeat}): direct, gateway`);
      runs.direct.push(
        measuredLoad(
          await runUnaryLoad(context, context.emulator, "http1", benchPayloads.directChat(shape), load),
          "direct",
        ),
      );
      runs.gateway.push(
        measuredLoad(
          await runUnaryLoad(context, context.gateway, "http1", benchPayloads.connectChat(shape), load),
          "gateway",
        ),
      );
    }
    scenarios.push(
      buildScenario(
        {
          suite: "prompt",
          id: `prompt/${bytes}`,
          name: `Chat with a ${sizeLabel(bytes)} prompt, Connect JSON, 1 conn`,
          throughputUnit: "req/s",
          latencyLabel: "latency",
        },
        runs.gateway,
        runs.direct,
      ),
    );
  }
  return scenarios;
}
