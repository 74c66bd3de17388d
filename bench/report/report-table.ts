import type { BenchReport, CostFigures, Scenario } from "./bench-report.js";

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
  if (scenario.direct === undefined || scenario.ratio === undefined)
    return `${gateway}${spread} ${scenario.throughputUnit}`;
  return `${gateway}${spread} / ${rate(scenario.direct.throughput)} ${scenario.throughputUnit} (${scenario.ratio.throughput.toFixed(2)}×)`;
}

function latency(scenario: Scenario, key: "p50" | "p90" | "p99"): string {
  const gateway = ms(scenario.gateway.latencyMs[key]);
  return scenario.addedMs === undefined ? gateway : `${gateway} (${signed(scenario.addedMs[key])})`;
}

function driver(scenario: Scenario): string {
  const direct = scenario.direct?.driver;
  return direct === undefined || direct === scenario.gateway.driver
    ? scenario.gateway.driver
    : `${scenario.gateway.driver} / ${direct}`;
}

const mb = (bytes: number): string => integer.format(bytes / (1024 * 1024));

/**
 * The cost suite's rows (measured in the bench process, so "in-process" as the driver): per request the CPU
 * with keys and budgets on, off, and the difference, in ms like the other CPU figures; the ledger's fill
 * (rows/s, in the throughput column); each GetUsage query's median wall time, in the p50 column.
 */
export function costRows(cost: CostFigures): string[] {
  const lines = cost.requestCpu.map(
    (row) =>
      `| ${row.name} (keys on / off) | in-process | - | - | - | - | ${(row.keysOnUs / 1000).toFixed(4)} / ${(row.keysOffUs / 1000).toFixed(4)} (${row.addedUs >= 0 ? "+" : "−"}${(Math.abs(row.addedUs) / 1000).toFixed(4)}) | - |`,
  );
  const { usage } = cost;
  const rows = integer.format(usage.rows);
  lines.push(
    `| Usage ledger fill: ${rows} requests in ${ms(usage.fillS)} s, 100k-row transactions (file ${mb(usage.dbBytes)} MB) | in-process | ${integer.format(usage.rows / usage.fillS)} rows/s | - | - | - | - | - |`,
  );
  for (const query of usage.queries) {
    lines.push(
      `| GetUsage at ${rows} rows: ${query.name} (${integer.format(query.matchedRows)} rows, ${query.groups} groups) | in-process | - | ${ms(query.medianMs)} | - | - | - | - |`,
    );
  }
  return lines;
}

/**
 * The benchmark's one table, as Markdown: per scenario the gateway's figure next to the direct call's, as a
 * ratio (throughput) or added milliseconds (latency), then the gateway process's CPU per operation and peak
 * RSS. Start-up and idle memory, then the cost suite's rows, close the table.
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
  if (report.cost !== undefined) lines.push(...costRows(report.cost));
  return lines.join("\n");
}
