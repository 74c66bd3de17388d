import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchReport, CostFigures, Measured, Scenario } from "../../bench/report/bench-report.js";
import { benchRunScript, runBench } from "./compiled-bench.js";

const outDirs: string[] = [];

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

function finiteFigures(measured: Measured, id: string): void {
  expect(Number.isFinite(measured.throughput), id).toBe(true);
  expect(measured.ops, id).toBeGreaterThan(0);
  expect(measured.errors, `${id}: failed calls`).toBe(0);
  for (const value of [
    measured.latencyMs.p50,
    measured.latencyMs.p90,
    measured.latencyMs.p99,
    measured.cpuMsPerOp,
    measured.rssMb,
  ]) {
    expect(Number.isFinite(value) && value >= 0, id).toBe(true);
  }
}

function wellFormed(scenario: Scenario): void {
  finiteFigures(scenario.gateway, `${scenario.id} (gateway)`);
  if (scenario.suite === "scaling") return;
  expect(scenario.direct).toBeDefined();
  if (scenario.direct !== undefined) finiteFigures(scenario.direct, `${scenario.id} (direct)`);
  expect(Number.isFinite(scenario.ratio?.throughput)).toBe(true);
  expect(Number.isFinite(scenario.addedMs?.p50)).toBe(true);
}

function costWellFormed(cost: CostFigures): void {
  expect(cost.requestCpu.map((r) => r.id)).toEqual([
    "cost/request-cpu/check-only",
    "cost/request-cpu/tokenized",
    "cost/request-cpu/memoized",
    "cost/request-cpu/budgeted",
    "cost/request-cpu/budgeted-filled-ledger",
  ]);
  for (const row of cost.requestCpu) {
    for (const value of [row.keysOnUs, row.keysOffUs]) expect(Number.isFinite(value) && value > 0, row.id).toBe(true);
    expect(Number.isFinite(row.addedUs), row.id).toBe(true);
    expect(row.runs.keysOnUs.length).toBeGreaterThanOrEqual(3);
    expect(row.runs.keysOffUs).toHaveLength(row.runs.keysOnUs.length);
  }
  expect(cost.usage.rows).toBe(20_000);
  expect(cost.usage.fillS).toBeGreaterThan(0);
  expect(cost.usage.dbBytes).toBeGreaterThan(0);
  expect(cost.usage.queries).toHaveLength(4);
  for (const query of cost.usage.queries) {
    expect(query.matchedRows, query.id).toBeGreaterThan(0);
    expect(query.runsMs, query.id).toHaveLength(5);
    expect(Number.isFinite(query.medianMs) && query.medianMs >= 0, query.id).toBe(true);
  }
}

/** Runs the compiled benchmark into a fresh directory and reads what it wrote. */
async function quickRun(args: string[]): Promise<{ report: BenchReport; markdown: string; stdout: string }> {
  const out = mkdtempSync(join(tmpdir(), "bench-smoke-out-"));
  outDirs.push(out);
  const run = await runBench(benchRunScript, ["--quick", "--out", out, ...args], 240_000);
  expect(run.stderr).not.toContain("bench failed");
  expect(run.code).toBe(0);
  const report = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as BenchReport;
  return { report, markdown: readFileSync(join(out, "latest.md"), "utf8"), stdout: run.stdout };
}

// A smoke run: the benchmark must run end to end and produce a well-formed table and JSON. No figure is
// compared with a target or with another figure: timing on a shared test machine proves nothing.
describe("npm run bench -- --quick", () => {
  it("runs every part and writes a well-formed table, JSON and target list", async () => {
    const { report, markdown, stdout } = await quickRun(["--duration", "0.3", "--warmup", "0.1"]);
    const suites = new Set(report.scenarios.map((s) => s.suite));
    expect([...suites].sort()).toEqual(["embed", "prompt", "scaling", "stream", "tracing", "unary"]);
    for (const scenario of report.scenarios) wellFormed(scenario);
    const ids = report.scenarios.map((s) => s.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        "unary/connect-json/c1",
        "unary/grpc/c16",
        "stream/grpc/c1/first",
        "embed/connect-json/c16",
        "prompt/1048576",
        "scaling/streams/100",
      ]),
    );
    expect(report.startup?.spawnToFirstAnswerMs).toBeGreaterThan(0);
    expect(report.startup?.idleRssMb).toBeGreaterThan(0);
    expect(report.targets.length).toBeGreaterThanOrEqual(10);
    for (const check of report.targets) expect([true, false, undefined]).toContain(check.met);
    const cost = report.cost;
    expect(cost).toBeDefined();
    if (cost !== undefined) costWellFormed(cost);
    const costRows = (cost?.requestCpu.length ?? 0) + 1 + (cost?.usage.queries.length ?? 0);
    const tableRows = (text: string): number => text.split("\n").filter((line) => line.startsWith("| ")).length;
    expect(tableRows(stdout)).toBe(report.scenarios.length + 2 + costRows);
    expect(markdown).toContain("| scenario | driver |");
    expect(markdown).toContain("## Targets");
  }, 300_000);

  it("runs unary with the Node load driver alone", async () => {
    const { report } = await quickRun(["--only", "unary", "--node-driver", "--duration", "0.3", "--warmup", "0.1"]);
    expect(report.scenarios.length).toBeGreaterThan(0);
    for (const scenario of report.scenarios) {
      wellFormed(scenario);
      expect(["node-http1", "node-http2"]).toContain(scenario.gateway.driver);
    }
    expect(report.startup).toBeUndefined();
    expect(report.cost).toBeUndefined();
  }, 300_000);

  it("runs the cost suite alone, without the emulator and gateway", async () => {
    const { report, stdout } = await quickRun(["--only", "cost"]);
    expect(report.scenarios).toEqual([]);
    expect(report.startup).toBeUndefined();
    if (report.cost !== undefined) costWellFormed(report.cost);
    expect(report.cost).toBeDefined();
    expect(stdout).toContain("GetUsage at 20,000 rows");
    const checks = report.targets.filter(
      (t) => t.target.includes("µs CPU per request") || t.target.startsWith("GetUsage"),
    );
    expect(checks).toHaveLength(2);
    expect(checks[1]?.met).toBeUndefined();
  }, 300_000);
});
