import type { BenchReport } from "./bench-report.js";
import { reportTable } from "./report-table.js";

/** bench/results/latest.md: how the run was made, the table, the target checks. */
export function reportMarkdown(report: BenchReport): string {
  const { machine, gateway, options } = report;
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(" ");
  const drivers = [...new Set(report.scenarios.flatMap((s) => [s.gateway.driver, s.direct?.driver ?? s.gateway.driver]))].join(", ");
  const lines = [
    `# Benchmark: ${report.startedAt}`,
    "",
    `${machine.cpus} cores (${machine.cpuModel}), ${machine.platform}, Node ${machine.node}; load average ${load(machine.loadAverageBefore)} before, ${load(machine.loadAverageAfter)} after.`,
    `Gateway: ${gateway.processes} process (no cluster), full pipeline (rate limits, least-latency routing over 2 targets, retries, circuit breakers, usage and cost, Prometheus metrics), log level ${gateway.logLevel}; emulator, gateway and load driver each in their own process on the same ${machine.cpus} cores.`,
    `Upstream latency ${gateway.upstreamLatencyMs} ms; ${String(options["durationS"])} s per point after ${String(options["warmupS"])} s warm-up, ${String(options["repeat"])} repeat(s) (medians; ± is half the spread); drivers: ${drivers}. Run took ${Math.round(report.durationS)} s.`,
    "",
    "Ratios are gateway ÷ direct; \"added\" is gateway − direct in ms. CPU and RSS are the gateway process's own (direct rows: the emulator's, in latest.json).",
    "",
    reportTable(report),
    "",
    "## Targets (issue 5)",
    "",
    "| target | measured | met |",
    "|---|---|---|",
    ...report.targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met === undefined ? "-" : t.met ? "yes" : "**no**"} |`),
    "",
  ];
  const notes = report.scenarios.filter((s) => s.note !== undefined).map((s) => `- ${s.name}: ${s.note ?? ""}`);
  if (notes.length > 0) lines.push("Notes:", "", ...notes, "");
  return lines.join("\n");
}
