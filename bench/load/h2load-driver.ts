import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestSpec } from "../setup/bench-payloads.js";
import { LatencySamples, type LoadResult } from "./load-result.js";
import { runTool } from "./native-tools.js";

/**
 * Closed-loop gRPC load with h2load (one thread, `concurrency` HTTP/2 connections, one stream at a time on
 * each) for `durationS` seconds, posting the prebuilt gRPC frame. h2load sees HTTP statuses only, not
 * grpc-status, so the suite checks the same frame with the Node driver first. Latencies come from h2load's
 * per-request log.
 */
export async function runH2load(
  url: string,
  spec: RequestSpec,
  concurrency: number,
  durationS: number,
  workDir: string,
): Promise<LoadResult> {
  const bodyPath = join(workDir, "h2load-body.bin");
  const logPath = join(workDir, "h2load.log");
  writeFileSync(bodyPath, spec.body);
  rmSync(logPath, { force: true });
  const headers = Object.entries(spec.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
  const target = new URL(spec.path, url).toString();
  const seconds = Math.max(1, Math.round(durationS));
  const { stdout } = await runTool(
    "h2load",
    ["-t1", `-c${concurrency}`, "-m1", `-D${seconds}`, "-d", bodyPath, ...headers, `--log-file=${logPath}`, target],
    (seconds + 60) * 1000,
  );
  const samples = new LatencySamples();
  let errors = 0;
  for (const line of readFileSync(logPath, "utf8").split("\n")) {
    const [, status, elapsedUs] = line.split("\t");
    if (status === undefined || elapsedUs === undefined) continue;
    if (status === "200") samples.add(Number(elapsedUs) / 1000);
    else errors++;
  }
  const finished = /finished in ([\d.]+)s/.exec(stdout);
  const failed = /(\d+) failed, (\d+) errored, (\d+) timeout/.exec(stdout);
  if (finished?.[1] === undefined) throw new Error(`h2load printed no result:\n${stdout}`);
  const duration = Number(finished[1]);
  if (failed !== null) errors = Math.max(errors, Number(failed[1]) + Number(failed[2]) + Number(failed[3]));
  return {
    driver: "h2load",
    requests: samples.length,
    errors,
    durationS: duration,
    rps: samples.length / duration,
    latencyMs: samples.summary(),
  };
}
