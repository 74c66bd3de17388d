import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/bench/compiled-bench.ts). */
const root = fileURLToPath(new URL("../..", import.meta.url));

/**
 * The compiled benchmark, as `npm run bench` runs it: dist/bench/run.js, which `npm test` builds (with the
 * rest of dist/, which the CLI tests run too) before any test starts. Run `npm run build` first when running
 * this file alone.
 */
export const benchRunScript = join(root, "dist", "bench", "run.js");

/** What a benchmark run printed and how it ended. */
export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled benchmark with `args` and waits for it to end. */
export function runBench(runScript: string, args: string[], timeoutMs: number): Promise<BenchRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [runScript, ...args],
      { cwd: root, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr });
      },
    );
  });
}
