import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestSpec } from "../setup/bench-payloads.js";
import type { LoadResult } from "./load-result.js";
import { runTool } from "./native-tools.js";

interface WrkSummary {
  requests: number;
  duration_us: number;
  errors: number;
  status_errors: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

const marker = "BENCH_RESULT ";

/** The wrk Lua script: POST the body file with the spec's headers, and print the figures as JSON when done. */
function luaScript(spec: RequestSpec, bodyPath: string): string {
  const headers = Object.entries(spec.headers)
    .map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join("\n");
  return `local file = assert(io.open(${JSON.stringify(bodyPath)}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
${headers}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${marker}{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"p50":%d,"p90":%d,"p99":%d,"mean":%.3f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
`;
}

/**
 * Closed-loop HTTP/1.1 load with wrk (one thread, `concurrency` keep-alive connections) for `durationS`
 * seconds. Non-2xx answers count as errors. Latency percentiles are wrk's own (microsecond histogram).
 */
export async function runWrk(
  url: string,
  spec: RequestSpec,
  concurrency: number,
  durationS: number,
  workDir: string,
): Promise<LoadResult> {
  const bodyPath = join(workDir, "wrk-body.bin");
  const scriptPath = join(workDir, "wrk-post.lua");
  writeFileSync(bodyPath, spec.body);
  writeFileSync(scriptPath, luaScript(spec, bodyPath));
  const target = new URL(spec.path, url).toString();
  const seconds = Math.max(1, Math.round(durationS));
  const { stdout } = await runTool(
    "wrk",
    ["-t1", `-c${concurrency}`, `-d${seconds}s`, "--timeout", "30s", "-s", scriptPath, target],
    (seconds + 60) * 1000,
  );
  const line = stdout.split("\n").find((l) => l.startsWith(marker));
  if (line === undefined) throw new Error(`wrk printed no result:\n${stdout}`);
  const summary = JSON.parse(line.slice(marker.length)) as WrkSummary;
  const ok = summary.requests - summary.status_errors;
  const duration = summary.duration_us / 1e6;
  return {
    driver: "wrk",
    requests: ok,
    errors: summary.errors + summary.status_errors,
    durationS: duration,
    rps: ok / duration,
    latencyMs: { p50: summary.p50 / 1000, p90: summary.p90 / 1000, p99: summary.p99 / 1000, mean: summary.mean / 1000 },
  };
}
