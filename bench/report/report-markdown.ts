import type { BenchReport, CostFigures } from "./bench-report.js";
import { reportTable } from "./report-table.js";

/** How the cost suite's rows were measured, with every run's figures. */
function costNotes(cost: CostFigures): string[] {
  const list = (values: readonly number[], digits: number): string => values.map((v) => v.toFixed(digits)).join(", ");
  const [first] = cost.requestCpu;
  return [
    "Cost control rows (in the bench process, no server; temp-file SQLite in WAL mode as the gateway opens it):",
    "",
    `- Key + budget rows: KeyRegistry (1,000 keys, 50 tenants), BudgetBook, LedgerWriter (flush every 50 ms or 500 records) and CostControl wired as src/main.ts wires them; per request: authenticate the Bearer header, check the model, open the account (estimate a 24-word chat prompt, price, reserve), top up before the attempt, bill it, read the cost, finish (settle, queue the ledger record; the ledger's writes are in the CPU). Process CPU (user + system) per request over ${first?.iterations ?? 0} requests after a warm-up, median of ${first?.runs.keysOnUs.length ?? 0} runs; each run measures a row's on and off loops back to back (alternating which goes first), "added" is the median of the runs' on − off; "keys off" is the same path with no key and no budget. CPU column: ms on / off (+ added). The first rows start on an empty ledger, which grows as their loops write to it (each write costs more as it grows); the last runs on the GetUsage ledger below. The error-rate alert window (AlertCenter.requestEnded) is left out: it is the same with keys on and off.`,
    ...cost.requestCpu.map(
      (r) => `  - ${r.id}: on ${list(r.runs.keysOnUs, 1)} µs; off ${list(r.runs.keysOffUs, 1)} µs`,
    ),
    `- GetUsage rows: \`queryUsage\` on a ledger of ${cost.usage.rows.toLocaleString("en-US")} requests (${cost.usage.keys.toLocaleString("en-US")} keys, ${cost.usage.tenants} tenants, 20 models, 5 providers, 90 days, uniform), reopened after the fill; wall ms, median of 5 (p50 column).`,
    ...cost.usage.queries.map((q) => `  - ${q.id}: ${list(q.runsMs, 2)} ms`),
    "",
  ];
}

/** bench/results/latest.md: how the run was made, the table, the target checks. */
export function reportMarkdown(report: BenchReport): string {
  const { machine, gateway, options } = report;
  const load = (values: number[]): string => values.map((v) => v.toFixed(2)).join(" ");
  const drivers = [
    ...new Set(report.scenarios.flatMap((s) => [s.gateway.driver, s.direct?.driver ?? s.gateway.driver])),
  ].join(", ");
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
    "## Targets",
    "",
    "| target | measured | met |",
    "|---|---|---|",
    ...report.targets.map(
      (t) => `| ${t.target} | ${t.measured} | ${t.met === undefined ? "-" : t.met ? "yes" : "**no**"} |`,
    ),
    "",
  ];
  const notes = report.scenarios.filter((s) => s.note !== undefined).map((s) => `- ${s.name}: ${s.note ?? ""}`);
  if (notes.length > 0) lines.push("Notes:", "", ...notes, "");
  if (report.cost !== undefined) lines.push(...costNotes(report.cost));
  return lines.join("\n");
}
