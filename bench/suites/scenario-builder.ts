import type { LatencyMs, LoadResult } from "../load/load-result.js";
import type { Measured, Scenario } from "../report/bench-report.js";
import type { SampledRun } from "./sampled-run.js";

function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function spread(values: readonly number[]): number {
  const m = median(values);
  return values.length < 2 || !(m > 0) ? 0 : ((Math.max(...values) - Math.min(...values)) / m) * 100;
}

/** The figure-by-figure median of several repeats of one side of a scenario. */
function medianMeasured(runs: readonly Measured[]): Measured {
  const [first] = runs;
  if (first === undefined) throw new Error("no runs to summarize");
  const pick = (f: (m: Measured) => number): number => median(runs.map(f));
  const latency = (key: keyof LatencyMs): number => pick((m) => m.latencyMs[key]);
  const extra: Record<string, number> = {};
  for (const key of Object.keys(first.extra)) extra[key] = pick((m) => m.extra[key] ?? Number.NaN);
  return {
    driver: first.driver,
    throughput: pick((m) => m.throughput),
    latencyMs: { p50: latency("p50"), p90: latency("p90"), p99: latency("p99"), mean: latency("mean") },
    ops: pick((m) => m.ops),
    errors: pick((m) => m.errors),
    cpuMsPerOp: pick((m) => m.cpuMsPerOp),
    rssMb: pick((m) => m.rssMb),
    extra,
  };
}

/** A measured side of a unary load run: for the gateway its own CPU and RSS, for the direct call the emulator's. */
export function measuredLoad(run: SampledRun<LoadResult>, side: "gateway" | "direct"): Measured {
  const { result } = run;
  const ops = Math.max(1, result.requests + result.errors);
  return {
    driver: result.driver,
    throughput: result.rps,
    latencyMs: result.latencyMs,
    ops: result.requests,
    errors: result.errors,
    cpuMsPerOp: (side === "gateway" ? run.gatewayCpuMs : run.emulatorCpuMs) / ops,
    rssMb: side === "gateway" ? run.gatewayPeakRssMb : run.emulatorPeakRssMb,
    extra: side === "gateway" ? { upstreamCpuMsPerOp: run.emulatorCpuMs / ops } : {},
  };
}

/** What a scenario is, before its figures. */
export interface ScenarioHead {
  suite: Scenario["suite"];
  id: string;
  name: string;
  throughputUnit: Scenario["throughputUnit"];
  latencyLabel: Scenario["latencyLabel"];
  note?: string;
}

/** A table line from its repeats: medians, gateway ÷ direct ratios, gateway − direct added milliseconds, spread. */
export function buildScenario(
  head: ScenarioHead,
  gatewayRuns: readonly Measured[],
  directRuns: readonly Measured[],
): Scenario {
  const gateway = medianMeasured(gatewayRuns);
  const scenario: Scenario = { ...head, gateway, runs: { gateway: [...gatewayRuns], direct: [...directRuns] } };
  if (gatewayRuns.length > 1) {
    scenario.spreadPct = {
      throughput: spread(gatewayRuns.map((m) => m.throughput)),
      p50: spread(gatewayRuns.map((m) => m.latencyMs.p50)),
    };
  }
  if (directRuns.length > 0) {
    const direct = medianMeasured(directRuns);
    scenario.direct = direct;
    scenario.ratio = {
      throughput: gateway.throughput / direct.throughput,
      p50: gateway.latencyMs.p50 / direct.latencyMs.p50,
      p90: gateway.latencyMs.p90 / direct.latencyMs.p90,
      p99: gateway.latencyMs.p99 / direct.latencyMs.p99,
    };
    scenario.addedMs = {
      p50: gateway.latencyMs.p50 - direct.latencyMs.p50,
      p90: gateway.latencyMs.p90 - direct.latencyMs.p90,
      p99: gateway.latencyMs.p99 - direct.latencyMs.p99,
    };
  }
  return scenario;
}
