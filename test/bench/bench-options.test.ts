import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseBenchOptions } from "../../bench/bench-options.js";

describe("parseBenchOptions", () => {
  it("defaults to every part at full length", () => {
    const options = parseBenchOptions([]);
    expect(options.quick).toBe(false);
    expect(options.durationS).toBe(5);
    expect(options.concurrencies).toEqual([1, 16, 64]);
    expect(options.openStreams).toEqual([1, 100, 1000, 5000]);
    expect([...options.suites]).toEqual([
      "unary",
      "stream",
      "embed",
      "scaling",
      "prompt",
      "startup",
      "tracing",
      "cost",
    ]);
    expect(options.outDir).toBe("bench/results");
  });

  it("makes --quick short and lets explicit options win", () => {
    const options = parseBenchOptions([
      "--quick",
      "--duration",
      "2",
      "--only",
      "unary,stream",
      "--streams",
      "10,20",
      "--repeat",
      "3",
    ]);
    expect(options.durationS).toBe(2);
    expect(options.warmupS).toBeLessThan(1);
    expect([...options.suites]).toEqual(["unary", "stream"]);
    expect(options.openStreams).toEqual([10, 20]);
    expect(options.repeat).toBe(3);
  });

  it("writes a quick run to git-ignored bench/results/quick, never over the measured results, unless --out says", () => {
    expect(parseBenchOptions(["--quick"])).toMatchObject({ outDir: "bench/results/quick", durationS: 0.3 });
    expect(parseBenchOptions(["--quick", "--out", "/tmp/x"]).outDir).toBe("/tmp/x");
    const ignored = spawnSync("git", ["check-ignore", "-q", "bench/results/quick/latest.json"]);
    expect(ignored.status).toBe(0);
    expect(spawnSync("git", ["check-ignore", "-q", "bench/results/latest.json"]).status).toBe(1);
  });

  it("names the bad option", () => {
    expect(() => parseBenchOptions(["--only", "unary,bogus"])).toThrow(/--only: unknown part "bogus"/);
    expect(() => parseBenchOptions(["--duration", "-1"])).toThrow(/--duration/);
    expect(() => parseBenchOptions(["--streams", "10,x"])).toThrow(/--streams/);
  });
});
