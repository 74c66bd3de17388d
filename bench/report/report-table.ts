import type { BenchReport, Scenario } from "./bench-report.js";

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function ms(value: number): string {
  if (!Number.isFinite(value)) return "-";
  const magnitude = Math.abs(value);
  return value.toFixed(magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2);
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : "−"}${ms(Math.abs(value))}`;
}

function rate(value: number): string {
  return value < 10 ? value.toFixed(1) : integer.format(value);
}

function throughput(scenario: Scenario): string {
  const gateway = rate(scenario.gateway.throughput);
  const spread = scenario.spreadPct === undefined ? "" : ` ±${Math.round(scenario.spreadPct.throughput / 2)}%`;
  if (scenario.direct === undefined || scenario.ratio === undefined) return `${gateway}${spread} ${scenario.throughputUnit}`;
  return `${gateway}${spread} / ${rate(scenario.direct.throughput)} ${scenario.throughputUnit} (${scenario.ratio.throughput.toFixed(2)}×)`;
}

function latency(scenario: Scenario, key: "p50" | "p90" | "p99"): string {
  const gateway = ms(scenario.gateway.latencyMs[key]);
  return scenario.addedMs === undefined ? gateway : `${gateway} (${signed(scenario.addedMs[key])})`;
}

function driver(scenario: Scenario): string {
  const direct = scenario.direct?.driver;
  return direct === undefined || direct === scenario.gateway.driver ? scenario.gateway.driver : `${scenario.gateway.driver} / ${direct}`;
}

/**
 * The benchmark's one table, as Markdown: per scenario the gateway's figure next to the direct call's, as a
 * ratio (throughput) or added milliseconds (latency), then the gateway process's CPU per operation and peak
 * RSS. Start-up and idle memory close the table.
 */
export function reportTable(report: BenchReport): string {
  const lines = [
    "| scenario | driver | throughput: gateway / direct (ratio) | p50 ms (added) | p90 ms (added) | p99 ms (added) | gateway CPU ms/op | gateway RSS MB |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const scenario of report.scenarios) {
    const label = scenario.latencyLabel === "latency" ? scenario.name : `${scenario.name} [${scenario.latencyLabel}]`;
    lines.push(
      `| ${label} | ${driver(scenario)} | ${throughput(scenario)} | ${latency(scenario, "p50")} | ${latency(scenario, "p90")} | ${latency(scenario, "p99")} | ${scenario.gateway.cpuMsPerOp.toFixed(3)} | ${integer.format(scenario.gateway.rssMb)} |`,
    );
  }
  const startup = report.startup;
  if (startup !== undefined) {
    lines.push(
      `| Start-up to first answer (process spawn → first chat answered; listening after ${ms(startup.spawnToListeningMs)}) | - | - | ${ms(startup.spawnToFirstAnswerMs)} | - | - | - | ${integer.format(startup.idleRssMb)} idle |`,
    );
  }
  return lines.join("\n");
}
