import type { BenchReport, CostFigures, Scenario, TargetCheck } from "./bench-report.js";

const notMeasured = (target: string): TargetCheck => ({ target, measured: "not measured in this run", met: undefined });
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

function scenarioCheck(
  scenarios: readonly Scenario[],
  id: string,
  target: string,
  check: (s: Scenario) => { measured: string; met: boolean } | undefined,
): TargetCheck {
  const scenario = scenarios.find((s) => s.id === id);
  const result = scenario === undefined ? undefined : check(scenario);
  return result === undefined ? notMeasured(target) : { target, ...result };
}

const keyCheckTarget = "checking a key and a budget adds < 20 µs CPU per request";
const usageTarget = "GetUsage for one key or one tenant < 50 ms at 2,000,000 ledger rows";
const usageTargetRows = 2_000_000;

/**
 * The cost-control targets. The key check's is judged on requests whose key and tenant both have a budget,
 * measured without the ledger write (the check itself: authenticate, model check, reserve, top up, bill,
 * settle, threshold alerts); the same requests with their ledger rows written (a new ledger, and one of two
 * million rows), the mixed row (half the keys budgeted) and the row with the prompt already tokenized are
 * shown beside it, so what recording usage per key adds is never hidden. GetUsage's is judged only on a ledger of at least 2,000,000 rows.
 */
export function costTargetChecks(cost: CostFigures | undefined): TargetCheck[] {
  if (cost === undefined) return [notMeasured(keyCheckTarget), notMeasured(usageTarget)];
  const row = (id: string) => cost.requestCpu.find((r) => r.id === `cost/request-cpu/${id}`);
  const check = row("check-only");
  const budgeted = row("budgeted");
  const mixed = row("tokenized");
  const memoized = row("memoized");
  const filled = row("budgeted-filled-ledger");
  const us = (value: number | undefined): string =>
    value === undefined ? "-" : `${value >= 0 ? "+" : "−"}${fixed(Math.abs(value), 1)} µs`;
  const checks: TargetCheck[] = [
    check === undefined
      ? notMeasured(keyCheckTarget)
      : {
          target: keyCheckTarget,
          measured:
            `${us(check.addedUs)} with a key and tenant budget, in memory (${fixed(check.keysOnUs, 1)} µs on, ${fixed(check.keysOffUs, 1)} µs off)` +
            (check.addedUs >= 20 ? `, over by ${fixed(check.addedUs - 20, 1)} µs` : "") +
            `; with the keyed ledger write ${us(budgeted?.addedUs)} (half the keys budgeted ${us(mixed?.addedUs)}, prompt already tokenized ` +
            `${us(memoized?.addedUs)}, on a ledger of ${cost.usage.rows.toLocaleString("en-US")} requests ${us(filled?.addedUs)})`,
          met: check.addedUs < 20,
        },
  ];
  const scoped = cost.usage.queries.filter((q) => q.scoped);
  const slowest = Math.max(...scoped.map((q) => q.medianMs));
  const atRows = `at ${cost.usage.rows.toLocaleString("en-US")} rows`;
  checks.push(
    scoped.length === 0
      ? notMeasured(usageTarget)
      : {
          target: usageTarget,
          measured: `${scoped.map((q) => `${q.name} ${fixed(q.medianMs)} ms`).join(", ")} ${atRows}${cost.usage.rows < usageTargetRows ? " (too few rows to judge)" : ""}`,
          met: cost.usage.rows < usageTargetRows ? undefined : slowest < 50,
        },
  );
  return checks;
}

/** Where the one target `npm run bench` cannot judge on its own is measured. */
const peerTarget = "unary Connect JSON ≥ 3× Portkey's req/s at 64 connections";
const peerHow = "not measured by this run: ../shared/peer-bench, both gateways in one sitting (docs/performance.md)";

/** The largest of the numbers that are defined, or undefined when none is. */
function largest(values: readonly (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  return defined.length === 0 ? undefined : Math.max(...defined);
}

/**
 * The targets of issue 9 (the hot path), each checked against this run's figures. CPU per relayed chunk is
 * judged on both measures the bench has, and met only when both are: a busy stream's whole CPU over its chunks
 * (the 16-connection stream rows: opening the stream is counted in) and the steady-state CPU per chunk of the
 * open-stream rows (above the idle CPU).
 */
export function targetChecks(report: BenchReport): TargetCheck[] {
  const s = report.scenarios;
  const checks: TargetCheck[] = [{ target: peerTarget, measured: peerHow, met: undefined }];
  const rps = (id: string) => s.find((x) => x.id === id)?.gateway.throughput;
  const connect64 = rps("unary/connect-json/c64");
  const grpc64 = rps("unary/grpc/c64");
  checks.push(
    connect64 === undefined || grpc64 === undefined
      ? notMeasured("unary gRPC within 20% of Connect JSON's req/s at 64 connections")
      : {
          target: "unary gRPC within 20% of Connect JSON's req/s at 64 connections",
          measured: `gRPC ${Math.round(grpc64)} req/s, Connect JSON ${Math.round(connect64)} req/s (${fixed(grpc64 / connect64)}×)`,
          met: grpc64 >= 0.8 * connect64,
        },
  );
  for (const [wire, label] of [
    ["connect-json", "Connect JSON"],
    ["grpc", "gRPC"],
  ] as const) {
    checks.push(
      scenarioCheck(
        s,
        `unary/${wire}/c64`,
        `unary ${label} gateway CPU ≤ 0.35 ms per request (64 connections)`,
        (x) => ({
          measured: `${fixed(x.gateway.cpuMsPerOp, 3)} ms`,
          met: x.gateway.cpuMsPerOp <= 0.35,
        }),
      ),
      scenarioCheck(s, `unary/${wire}/c1`, `unary ${label} added p50 ≤ 0.3 ms at 1 connection`, (x) =>
        x.addedMs === undefined ? undefined : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 0.3 },
      ),
      scenarioCheck(
        s,
        `unary/${wire}/c16`,
        `unary ${label} added p50 ≤ 1.5 ms and added p99 ≤ 5 ms at 16 connections`,
        (x) =>
          x.addedMs === undefined
            ? undefined
            : {
                measured: `p50 ${fixed(x.addedMs.p50, 3)} ms, p99 ${fixed(x.addedMs.p99)} ms`,
                met: x.addedMs.p50 <= 1.5 && x.addedMs.p99 <= 5,
              },
      ),
      scenarioCheck(
        s,
        `stream/${wire}/c1/first`,
        `stream ${label} added time to first chunk ≤ 0.5 ms p50 at 1 connection`,
        (x) =>
          x.addedMs === undefined
            ? undefined
            : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 0.5 },
      ),
    );
  }
  const busyChunkMs = largest(
    ["connect-json", "grpc"].map(
      (wire) => s.find((x) => x.id === `stream/${wire}/c16/last`)?.gateway.extra["cpuMsPerChunk"],
    ),
  );
  const openChunkMs = largest(s.filter((x) => x.id.startsWith("scaling/streams/")).map((x) => x.gateway.cpuMsPerOp));
  const us = (ms: number | undefined): string => (ms === undefined ? "not measured" : `${fixed(ms * 1000, 1)} µs`);
  checks.push(
    busyChunkMs === undefined && openChunkMs === undefined
      ? notMeasured("stream gateway CPU ≤ 15 µs per relayed chunk")
      : {
          target: "stream gateway CPU ≤ 15 µs per relayed chunk",
          measured: `busy streams at 16 connections ${us(busyChunkMs)} (the worse wire), open streams ${us(openChunkMs)} (the worst count)`,
          met: busyChunkMs !== undefined && openChunkMs !== undefined && Math.max(busyChunkMs, openChunkMs) <= 0.015,
        },
    scenarioCheck(s, "scaling/streams/5000", "5,000 concurrent open streams under 300 MB RSS", (x) => {
      const started = x.gateway.extra["streamsStarted"] ?? 0;
      return {
        measured: `${Math.round(x.gateway.rssMb)} MB peak, ${started} of 5000 streams delivering`,
        met: x.gateway.rssMb < 300 && started >= 5_000,
      };
    }),
    scenarioCheck(
      s,
      "scaling/streams/1000",
      "1,000 streams opened at once all get their first chunk within 1 s",
      (x) => {
        const started = x.gateway.extra["streamsStarted"] ?? 0;
        const rampMs = x.gateway.extra["rampMs"] ?? Number.NaN;
        return {
          measured: `${started} of 1000 started, the last first chunk after ${Math.round(rampMs)} ms`,
          met: started >= 1_000 && rampMs <= 1_000,
        };
      },
    ),
  );
  const startup = report.startup;
  if (startup === undefined) {
    checks.push(notMeasured("idle RSS ≤ 80 MB"), notMeasured("start-up to serving ≤ 0.5 s"));
  } else {
    checks.push(
      {
        target: "idle RSS ≤ 80 MB",
        measured: `${fixed(startup.idleRssMb, 1)} MB (after requests: ${fixed(startup.idleAfterRequestsRssMb, 1)} MB)`,
        met: startup.idleRssMb <= 80,
      },
      {
        target: "start-up to serving ≤ 0.5 s",
        measured: `${Math.round(startup.spawnToFirstAnswerMs)} ms spawn to first answer (${Math.round(startup.spawnToListeningMs)} ms to listening)`,
        met: startup.spawnToFirstAnswerMs <= 500,
      },
    );
  }
  checks.push(...costTargetChecks(report.cost));
  return checks;
}
