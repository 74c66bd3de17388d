import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is test/bench/compiled-bench.ts). */
const root = fileURLToPath(new URL("../..", import.meta.url));

/** A private build of src, gen and bench (the benchmark runs compiled, in child processes). */
export interface CompiledBench {
  /** The compiled bench/run.js. */
  runScript: string;
  remove(): void;
}

/**
 * Compiles the project as `npm run bench` would, into a private directory under node_modules/.cache (so the
 * compiled files still resolve the project's packages) without touching dist/: type errors are the type
 * check's business (`--noCheck`), this only needs the JavaScript.
 */
export async function compileBench(): Promise<CompiledBench> {
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, "bench-smoke-"));
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  await new Promise<void>((done, fail) => {
    execFile(
      process.execPath,
      [tsc, "-p", join(root, "tsconfig.build.json"), "--noCheck", "--outDir", outDir],
      { cwd: root },
      (error, stdout) => {
        if (error) fail(new Error(`tsc failed: ${stdout}`));
        else done();
      },
    );
  });
  return { runScript: join(outDir, "bench", "run.js"), remove: () => rmSync(outDir, { recursive: true, force: true }) };
}

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
