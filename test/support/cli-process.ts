import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../bin/llm-gateway.js", import.meta.url));

/** Runs the built CLI (npm test builds it first) and resolves with the first JSON log line matching `msg`. */
export function start(
  args: string[],
  env: Record<string, string> = {},
): {
  child: ChildProcessWithoutNullStreams;
  line: (msg: string) => Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
  stderr: () => string;
  stdout: () => string;
} {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env } });
  let out = "";
  let err = "";
  const waiters: (() => void)[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    for (const wake of waiters.splice(0)) wake();
  });
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      resolve(code);
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  const line = async (msg: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l["msg"] === msg);
      if (found) return found;
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`exited ${child.exitCode ?? child.signalCode}: ${err}`);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { child, line, exit, stderr: () => err, stdout: () => out };
}
