import type { BenchReport, Scenario, TargetCheck } from "./bench-report.js";

const notMeasured = (target: string): TargetCheck => ({ target, measured: "not measured in this run", met: undefined });
const fixed = (value: number, digits = 2): string => value.toFixed(digits);

function scenarioCheck(scenarios: readonly Scenario[], id: string, target: string, check: (s: Scenario) => { measured: string; met: boolean } | undefined): TargetCheck {
  const scenario = scenarios.find((s) => s.id === id);
  const result = scenario === undefined ? undefined : check(scenario);
  return result === undefined ? notMeasured(target) : { target, ...result };
}

/** The targets of issue 5, each checked against this run's figures. */
export function targetChecks(report: BenchReport): TargetCheck[] {
  const s = report.scenarios;
  const checks: TargetCheck[] = [];
  for (const [wire, label] of [["connect-json", "Connect JSON"], ["grpc", "gRPC"]] as const) {
    checks.push(
      scenarioCheck(s, `unary/${wire}/c64`, `unary ${label} ≥ 5,000 req/s at 64 connections`, (x) => ({
        measured: `${Math.round(x.gateway.throughput)} req/s`,
        met: x.gateway.throughput >= 5_000,
      })),
      scenarioCheck(s, `unary/${wire}/c1`, `unary ${label} added p50 ≤ 0.25 ms at 1 connection`, (x) =>
        x.addedMs === undefined ? undefined : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 0.25 },
      ),
      scenarioCheck(s, `unary/${wire}/c16`, `unary ${label} added p50 ≤ 1.5 ms and added p99 ≤ 5 ms at 16 connections`, (x) =>
        x.addedMs === undefined
          ? undefined
          : { measured: `p50 ${fixed(x.addedMs.p50, 3)} ms, p99 ${fixed(x.addedMs.p99)} ms`, met: x.addedMs.p50 <= 1.5 && x.addedMs.p99 <= 5 },
      ),
      scenarioCheck(s, `unary/${wire}/c64`, `unary ${label} gateway CPU ≤ 0.2 ms per request (64 connections)`, (x) => ({
        measured: `${fixed(x.gateway.cpuMsPerOp, 3)} ms`,
        met: x.gateway.cpuMsPerOp <= 0.2,
      })),
      scenarioCheck(s, `stream/${wire}/c1/first`, `stream ${label} added time to first chunk ≤ 1 ms p50 at 1 connection`, (x) =>
        x.addedMs === undefined ? undefined : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 1 },
      ),
    );
  }
  checks.push(
    scenarioCheck(s, "scaling/streams/5000", "5,000 concurrent open streams under 300 MB RSS", (x) => {
      const started = x.gateway.extra["streamsStarted"] ?? 0;
      return { measured: `${Math.round(x.gateway.rssMb)} MB peak, ${started} of 5000 streams delivering`, met: x.gateway.rssMb < 300 && started >= 5_000 };
    }),
  );
  const startup = report.startup;
  if (startup === undefined) {
    checks.push(notMeasured("idle RSS ≤ 80 MB"), notMeasured("start-up to serving ≤ 1 s"));
  } else {
    checks.push(
      { target: "idle RSS ≤ 80 MB", measured: `${fixed(startup.idleRssMb, 1)} MB (after requests: ${fixed(startup.idleAfterRequestsRssMb, 1)} MB)`, met: startup.idleRssMb <= 80 },
      {
        target: "start-up to serving ≤ 1 s",
        measured: `${Math.round(startup.spawnToFirstAnswerMs)} ms spawn to first answer (${Math.round(startup.spawnToListeningMs)} ms to listening)`,
        met: startup.spawnToFirstAnswerMs <= 1_000,
      },
    );
  }
  return checks;
}
