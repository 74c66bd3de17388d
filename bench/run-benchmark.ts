import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "./bench-options.js";
import { toolAvailable } from "./load/native-tools.js";
import type { BenchReport, CostFigures, Scenario, StartupFigures, SuiteName } from "./report/bench-report.js";
import { targetChecks } from "./report/target-checks.js";
import { startEmulatorChild, startGatewayChild } from "./setup/bench-processes.js";
import type { BenchContext } from "./suites/bench-context.js";
import { costSuite } from "./suites/cost-suite.js";
import { embedSuite } from "./suites/embed-suite.js";
import { promptSuite } from "./suites/prompt-suite.js";
import { scalingSuite } from "./suites/scaling-suite.js";
import { startupSuite } from "./suites/startup-suite.js";
import { streamSuite } from "./suites/stream-suite.js";
import { tracingSuite } from "./suites/tracing-suite.js";
import { unarySuite } from "./suites/unary-suite.js";

/** The suites that run against the shared emulator and gateway, in table order. */
const sharedSuites: readonly [SuiteName, (context: BenchContext) => Promise<Scenario[]>][] = [
  ["unary", unarySuite],
  ["stream", streamSuite],
  ["embed", embedSuite],
  ["prompt", promptSuite],
  ["scaling", scalingSuite],
];

/** The suites that need the emulator and gateway processes (every one but cost). */
const served = (options: BenchOptions): boolean => [...options.suites].some((suite) => suite !== "cost");

/** The served suites: the emulator and gateways in their own processes, the scenarios and start-up figures. */
async function servedSuites(
  options: BenchOptions,
  log: (message: string) => void,
): Promise<{ scenarios: Scenario[]; startup: StartupFigures | undefined }> {
  const workDir = mkdtempSync(join(os.tmpdir(), "llm-gateway-bench-"));
  const tools = options.nodeDriverOnly
    ? { wrk: false, h2load: false }
    : { wrk: await toolAvailable("wrk"), h2load: await toolAvailable("h2load") };
  log(
    `load drivers: HTTP/1.1 ${tools.wrk ? "wrk" : "node"}, gRPC ${tools.h2load ? "h2load" : "node"}; ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const scenarios: Scenario[] = [];
  let startup: StartupFigures | undefined;
  const emulator = await startEmulatorChild(options.upstreamLatencyMs, options.slowChunkDelayMs);
  try {
    const gatewayStart = {
      emulatorUrl: emulator.url,
      workDir,
      logLevel: options.logLevel,
      profileDir: options.profileDir,
    };
    if (options.suites.has("startup"))
      startup = await startupSuite({ ...gatewayStart, label: "startup", profileDir: undefined }, options, log);
    const gateway = await startGatewayChild({ ...gatewayStart, label: "main" });
    const context: BenchContext = { options, emulator, gateway, tools, workDir, log };
    try {
      for (const [name, suite] of sharedSuites) if (options.suites.has(name)) scenarios.push(...(await suite(context)));
    } finally {
      await gateway.child.stop();
    }
    if (options.suites.has("tracing"))
      scenarios.push(...(await tracingSuite(context, { ...gatewayStart, label: "tracing", profileDir: undefined })));
  } finally {
    await emulator.child.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  return { scenarios, startup };
}

/**
 * One benchmark run: the emulator and a gateway (full pipeline, own process each), every selected suite
 * against them, then the tracing row on a second gateway, and start-up on a fresh one; last, with those
 * processes gone, the cost suite in this process. The report with the target checks.
 */
export async function runBenchmark(options: BenchOptions, log: (message: string) => void): Promise<BenchReport> {
  const startedAt = new Date();
  const loadAverageBefore = os.loadavg();
  const { scenarios, startup } = served(options)
    ? await servedSuites(options, log)
    : { scenarios: [], startup: undefined };
  let cost: CostFigures | undefined;
  if (options.suites.has("cost")) cost = await costSuite(options, log);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    durationS: (Date.now() - startedAt.getTime()) / 1000,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAverageBefore,
      loadAverageAfter: os.loadavg(),
    },
    gateway: { processes: 1, logLevel: options.logLevel, upstreamLatencyMs: options.upstreamLatencyMs },
    options: { ...options, suites: [...options.suites] },
    scenarios,
    targets: [],
  };
  if (startup !== undefined) report.startup = startup;
  if (cost !== undefined) report.cost = cost;
  report.targets = targetChecks(report);
  return report;
}
