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

/** The targets of issue 5, each checked against this run's figures. */
export function targetChecks(report: BenchReport): TargetCheck[] {
  const s = report.scenarios;
  const checks: TargetCheck[] = [];
  for (const [wire, label] of [
    ["connect-json", "Connect JSON"],
    ["grpc", "gRPC"],
  ] as const) {
    checks.push(
      scenarioCheck(s, `unary/${wire}/c64`, `unary ${label} ≥ 5,000 req/s at 64 connections`, (x) => ({
        measured: `${Math.round(x.gateway.throughput)} req/s`,
        met: x.gateway.throughput >= 5_000,
      })),
      scenarioCheck(s, `unary/${wire}/c1`, `unary ${label} added p50 ≤ 0.25 ms at 1 connection`, (x) =>
        x.addedMs === undefined ? undefined : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 0.25 },
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
        `unary/${wire}/c64`,
        `unary ${label} gateway CPU ≤ 0.2 ms per request (64 connections)`,
        (x) => ({
          measured: `${fixed(x.gateway.cpuMsPerOp, 3)} ms`,
          met: x.gateway.cpuMsPerOp <= 0.2,
        }),
      ),
      scenarioCheck(
        s,
        `stream/${wire}/c1/first`,
        `stream ${label} added time to first chunk ≤ 1 ms p50 at 1 connection`,
        (x) =>
          x.addedMs === undefined ? undefined : { measured: `${fixed(x.addedMs.p50, 3)} ms`, met: x.addedMs.p50 <= 1 },
      ),
    );
  }
  checks.push(
    scenarioCheck(s, "scaling/streams/5000", "5,000 concurrent open streams under 300 MB RSS", (x) => {
      const started = x.gateway.extra["streamsStarted"] ?? 0;
      return {
        measured: `${Math.round(x.gateway.rssMb)} MB peak, ${started} of 5000 streams delivering`,
        met: x.gateway.rssMb < 300 && started >= 5_000,
      };
    }),
  );
  const startup = report.startup;
  if (startup === undefined) {
    checks.push(notMeasured("idle RSS ≤ 80 MB"), notMeasured("start-up to serving ≤ 1 s"));
  } else {
    checks.push(
      {
        target: "idle RSS ≤ 80 MB",
        measured: `${fixed(startup.idleRssMb, 1)} MB (after requests: ${fixed(startup.idleAfterRequestsRssMb, 1)} MB)`,
        met: startup.idleRssMb <= 80,
      },
      {
        target: "start-up to serving ≤ 1 s",
        measured: `${Math.round(startup.spawnToFirstAnswerMs)} ms spawn to first answer (${Math.round(startup.spawnToListeningMs)} ms to listening)`,
        met: startup.spawnToFirstAnswerMs <= 1_000,
      },
    );
  }
  checks.push(...costTargetChecks(report.cost));
  return checks;
}
