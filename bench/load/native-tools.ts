import { execFile } from "node:child_process";

/** The result of running a native tool. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
}

/** Runs a command and returns its output; rejects with its stderr when it fails. */
export function runTool(command: string, args: string[], timeoutMs: number): Promise<ToolOutput> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed: ${error.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const available = new Map<string, Promise<boolean>>();

/** Whether `command` is installed here (checked once per process: it starts, whatever its exit code). */
export function toolAvailable(command: "wrk" | "h2load"): Promise<boolean> {
  let known = available.get(command);
  if (known === undefined) {
    known = new Promise((resolve) => {
      execFile(command, ["--version"], { timeout: 5_000 }, (error) => resolve(error?.code !== "ENOENT"));
    });
    available.set(command, known);
  }
  return known;
}
