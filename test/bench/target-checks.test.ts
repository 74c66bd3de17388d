import { describe, expect, it } from "vitest";
import type { BenchReport, Measured, Scenario } from "../../bench/report/bench-report.js";
import { targetChecks } from "../../bench/report/target-checks.js";

function measured(figures: Partial<Measured>): Measured {
  return {
    driver: "node-http1",
    throughput: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, mean: 0 },
    ops: 1,
    errors: 0,
    cpuMsPerOp: 0,
    rssMb: 0,
    extra: {},
    ...figures,
  };
}

function scenario(id: string, gateway: Partial<Measured>, addedMs?: Scenario["addedMs"]): Scenario {
  return {
    suite: "unary",
    id,
    name: id,
    throughputUnit: "req/s",
    latencyLabel: "latency",
    gateway: measured(gateway),
    ...(addedMs ? { addedMs } : {}),
    runs: { gateway: [], direct: [] },
  };
}

function report(scenarios: Scenario[], startup?: BenchReport["startup"]): BenchReport {
  return {
    startedAt: "2026-12-02T00:00:00Z",
    durationS: 1,
    machine: { cpus: 2, cpuModel: "test", node: "v20", platform: "linux", loadAverageBefore: [], loadAverageAfter: [] },
    gateway: { processes: 1, logLevel: "info", upstreamLatencyMs: 0 },
    options: {},
    scenarios,
    ...(startup ? { startup } : {}),
    targets: [],
  };
}

const added = (p50: number, p99 = p50) => ({ p50, p90: p50, p99 });

function checkOf(checks: ReturnType<typeof targetChecks>, start: string) {
  const check = checks.find((c) => c.target.startsWith(start));
  if (check === undefined) throw new Error(`no target starting "${start}"`);
  return check;
}

describe("targetChecks (issue 9's targets)", () => {
  it("judges each figure at its bound: CPU per request, added latency, time to first chunk", () => {
    const checks = targetChecks(
      report([
        scenario("unary/connect-json/c64", { throughput: 1000, cpuMsPerOp: 0.35 }),
        scenario("unary/grpc/c64", { throughput: 1000, cpuMsPerOp: 0.351 }),
        scenario("unary/connect-json/c1", {}, added(0.3)),
        scenario("unary/grpc/c1", {}, added(0.31)),
        scenario("unary/connect-json/c16", {}, added(1.5, 5)),
        scenario("unary/grpc/c16", {}, added(1.5, 5.1)),
        scenario("stream/connect-json/c1/first", {}, added(0.5)),
        scenario("stream/grpc/c1/first", {}, added(0.6)),
      ]),
    );
    expect(checkOf(checks, "unary Connect JSON gateway CPU ≤ 0.35 ms").met).toBe(true);
    expect(checkOf(checks, "unary gRPC gateway CPU ≤ 0.35 ms").met).toBe(false);
    expect(checkOf(checks, "unary Connect JSON added p50 ≤ 0.3 ms").met).toBe(true);
    expect(checkOf(checks, "unary gRPC added p50 ≤ 0.3 ms").met).toBe(false);
    expect(checkOf(checks, "unary Connect JSON added p50 ≤ 1.5 ms").met).toBe(true);
    expect(checkOf(checks, "unary gRPC added p50 ≤ 1.5 ms").met).toBe(false);
    expect(checkOf(checks, "stream Connect JSON added time to first chunk ≤ 0.5 ms").met).toBe(true);
    expect(checkOf(checks, "stream gRPC added time to first chunk ≤ 0.5 ms").met).toBe(false);
  });

  it("wants gRPC within 20% of Connect JSON's throughput", () => {
    const within = (grpc: number) =>
      checkOf(
        targetChecks(
          report([
            scenario("unary/connect-json/c64", { throughput: 1000 }),
            scenario("unary/grpc/c64", { throughput: grpc }),
          ]),
        ),
        "unary gRPC within 20%",
      );
    expect(within(800).met).toBe(true);
    expect(within(799).met).toBe(false);
    expect(within(799).measured).toContain("gRPC 799 req/s, Connect JSON 1000 req/s");
  });

  it("meets CPU per relayed chunk only when busy and open streams both stay within 15 µs", () => {
    const chunks = (busy: number, open: number) =>
      checkOf(
        targetChecks(
          report([
            scenario("stream/connect-json/c16/last", { extra: { cpuMsPerChunk: 0.01 } }),
            scenario("stream/grpc/c16/last", { extra: { cpuMsPerChunk: busy } }),
            scenario("scaling/streams/100", { cpuMsPerOp: 0.005 }),
            scenario("scaling/streams/1000", { cpuMsPerOp: open }),
          ]),
        ),
        "stream gateway CPU ≤ 15 µs",
      );
    expect(chunks(0.015, 0.015).met).toBe(true);
    expect(chunks(0.016, 0.015).met).toBe(false);
    expect(chunks(0.015, 0.016).met).toBe(false);
    expect(chunks(0.016, 0.012).measured).toBe(
      "busy streams at 16 connections 16.0 µs (the worse wire), open streams 12.0 µs (the worst count)",
    );
    const onlyBusy = targetChecks(report([scenario("stream/grpc/c16/last", { extra: { cpuMsPerChunk: 0.001 } })]));
    expect(checkOf(onlyBusy, "stream gateway CPU ≤ 15 µs").met).toBe(false);
  });

  it("wants all of 1,000 streams opened at once to have their first chunk within 1 s", () => {
    const ramp = (started: number, rampMs: number) =>
      checkOf(
        targetChecks(report([scenario("scaling/streams/1000", { extra: { streamsStarted: started, rampMs } })])),
        "1,000 streams opened at once",
      ).met;
    expect(ramp(1000, 1000)).toBe(true);
    expect(ramp(1000, 1001)).toBe(false);
    expect(ramp(999, 500)).toBe(false);
  });

  it("wants start-up to serving within 0.5 s and idle RSS within 80 MB", () => {
    const startup = (spawnToFirstAnswerMs: number, idleRssMb: number) =>
      targetChecks(
        report([], {
          spawnToFirstAnswerMs,
          spawnToListeningMs: spawnToFirstAnswerMs - 10,
          processStartToListeningMs: 0,
          idleRssMb,
          idleAfterRequestsRssMb: idleRssMb,
        }),
      );
    expect(checkOf(startup(500, 80), "start-up to serving ≤ 0.5 s").met).toBe(true);
    expect(checkOf(startup(501, 80), "start-up to serving ≤ 0.5 s").met).toBe(false);
    expect(checkOf(startup(500, 80.5), "idle RSS ≤ 80 MB").met).toBe(false);
  });

  it("leaves what the run did not measure, and the Portkey ratio, unjudged", () => {
    const checks = targetChecks(report([]));
    expect(checkOf(checks, "unary Connect JSON ≥ 3× Portkey").met).toBeUndefined();
    expect(checkOf(checks, "unary Connect JSON ≥ 3× Portkey").measured).toContain("peer-bench");
    expect(checks.filter((c) => c.met !== undefined)).toEqual([]);
  });
});
