import type { DriverName, LatencyMs } from "../load/load-result.js";

/** The benchmark's parts, selectable with `--only`. */
export const suiteNames = ["unary", "stream", "embed", "scaling", "prompt", "startup", "tracing", "cost"] as const;
/** One part of the benchmark. */
export type SuiteName = (typeof suiteNames)[number];

/** One side (direct or through the gateway) of one scenario, median over the repeats. */
export interface Measured {
  driver: DriverName;
  /** Requests/s, or chunks/s or streams/s (see the scenario's unit). */
  throughput: number;
  /** Request latency, or time to first / last chunk (see the scenario's label). */
  latencyMs: LatencyMs;
  /** Operations that succeeded, and failed, in the measured window. */
  ops: number;
  errors: number;
  /** Gateway rows: the gateway process's CPU per operation; direct rows: the emulator's. */
  cpuMsPerOp: number;
  /** Gateway rows: the gateway process's peak RSS during the run; direct rows: the emulator's. */
  rssMb: number;
  /** Further figures of the row (upstream CPU, ramp-up time, RSS after close...). */
  extra: Record<string, number>;
}

/** One line of the table: the same load straight at the emulator and through the gateway. */
export interface Scenario {
  suite: SuiteName;
  /** Stable key, for target checks and tests: `unary/connect-json/c64`. */
  id: string;
  /** What the table shows. */
  name: string;
  throughputUnit: "req/s" | "chunks/s" | "streams/s";
  latencyLabel: "latency" | "TTFC" | "TTLC";
  gateway: Measured;
  /** Absent when there is no direct equivalent (open streams). */
  direct?: Measured;
  /** Gateway ÷ direct. */
  ratio?: { throughput: number; p50: number; p90: number; p99: number };
  /** Gateway − direct, in milliseconds. */
  addedMs?: { p50: number; p90: number; p99: number };
  /** Across repeats, (max − min) ÷ median of the gateway's throughput and p50, in percent. */
  spreadPct?: { throughput: number; p50: number };
  /** Every repeat, in order. */
  runs: { gateway: Measured[]; direct: Measured[] };
  note?: string;
}

/** A fresh gateway process from spawn to serving, and at rest. */
export interface StartupFigures {
  /** Parent-measured: spawn until the first chat answer came back through it. */
  spawnToFirstAnswerMs: number;
  /** Parent-measured: spawn until the child reported `serve` returned (listening). */
  spawnToListeningMs: number;
  /** The child's own clock: process start until listening. */
  processStartToListeningMs: number;
  /** RSS after start-up, before any request, after a short idle period. */
  idleRssMb: number;
  /** RSS of the same process after its first few requests, at rest again. */
  idleAfterRequestsRssMb: number;
}

/** CPU per request of the cost-control path, keys and budgets on and off, measured in the bench process. */
export interface RequestCpuFigures {
  /** Stable key: `cost/request-cpu/tokenized`, `cost/request-cpu/memoized`, `cost/request-cpu/budgeted`. */
  id: string;
  name: string;
  /** Requests per measured run (after the warm-up). */
  iterations: number;
  /** Microseconds of process CPU (user + system) per request, median of the runs. */
  keysOnUs: number;
  keysOffUs: number;
  /** What checking the key and the budgets adds: the median of each run's on − off (measured back to back). */
  addedUs: number;
  /** Every run, in order. */
  runs: { keysOnUs: number[]; keysOffUs: number[] };
}

/** One GetUsage query timed against the filled ledger. */
export interface UsageQueryFigures {
  /** Stable key: `cost/usage/key-7d-by-day`... */
  id: string;
  name: string;
  /** Whether the query reads one key's or one tenant's rows (the < 50 ms target applies). */
  scoped: boolean;
  /** Ledger rows the filter matches, and the groups it returned. */
  matchedRows: number;
  groups: number;
  /** Wall milliseconds of `queryUsage`, median of the runs. */
  medianMs: number;
  /** Every run, in order (the first after reopening the database). */
  runsMs: number[];
}

/** GetUsage against a ledger of many rows. */
export interface UsageFigures {
  rows: number;
  keys: number;
  tenants: number;
  fillS: number;
  /** The database file (and any WAL left) after the fill, closed. */
  dbBytes: number;
  queries: UsageQueryFigures[];
}

/** The cost suite: no server, the cost-control code in the bench process. */
export interface CostFigures {
  requestCpu: RequestCpuFigures[];
  usage: UsageFigures;
}

/** A target (issue 9's hot path, issue 5's cost control) and whether this run met it. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/** Everything one benchmark run produced: bench/results/latest.json. */
export interface BenchReport {
  startedAt: string;
  durationS: number;
  machine: {
    cpus: number;
    cpuModel: string;
    node: string;
    platform: string;
    loadAverageBefore: number[];
    loadAverageAfter: number[];
  };
  /** How the gateway ran: processes and the cores it could use. */
  gateway: { processes: number; logLevel: string; upstreamLatencyMs: number };
  options: Record<string, unknown>;
  scenarios: Scenario[];
  startup?: StartupFigures;
  cost?: CostFigures;
  targets: TargetCheck[];
}
