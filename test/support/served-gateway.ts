import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { start } from "./cli-process.js";

/** What `serveGateway` writes into the config file. */
export interface ServedGatewayOptions {
  /** Folder for the config file and the usage database. */
  dir: string;
  /** Names the config file and the database (unique within `dir`). */
  name: string;
  /** The provider emulator's base URL (`Emulator.url`). */
  emulatorUrl: string;
  /** The key the emulator accepts (passed to the child as OPENAI_API_KEY). */
  providerKey: string;
  /** The config's `server` section; host 127.0.0.1 is added, the port is always `--port 0`. */
  server?: Record<string, unknown>;
}

/** A real `llm-gateway serve` child process. */
export interface ServedGateway {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>;
  /** The first JSON log line whose msg is `msg` (waits for it). */
  line(msg: string): Promise<Record<string, unknown>>;
  stderr(): string;
  /** The child's resident set size (VmRSS of /proc/PID/status), in MiB. */
  rssMb(): number;
  /** SIGKILLs the child unless it has exited, and waits for its exit. */
  stop(): Promise<void>;
}

/** One OpenAI-type provider on the emulator, serving model `gpt-4o`. */
export const servedModel = "gpt-4o";

/**
 * Writes a config (JSON, which is YAML too) and starts `llm-gateway serve --config FILE --port 0`; resolves once
 * the "llm-gateway listening" line names the port.
 */
export async function serveGateway(options: ServedGatewayOptions): Promise<ServedGateway> {
  const path = join(options.dir, `${options.name}.yaml`);
  const config = {
    server: { host: "127.0.0.1", ...options.server },
    logging: { level: "info" },
    storage: { sqlite: { path: join(options.dir, `${options.name}.db`) } },
    providers: [{ name: "openai", type: "openai", apiKey: "${OPENAI_API_KEY}", baseUrl: `${options.emulatorUrl}/v1` }],
    models: [{ name: servedModel, targets: [{ provider: "openai", model: "gpt-4o" }] }],
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
  const served = start(["serve", "--config", path, "--port", "0"], { OPENAI_API_KEY: options.providerKey });
  const stop = async (): Promise<void> => {
    if (served.child.exitCode === null && served.child.signalCode === null) served.child.kill("SIGKILL");
    await served.exit;
  };
  try {
    const listening = await within(15_000, "'llm-gateway listening' line", served.line("llm-gateway listening"));
    const port = Number(listening["port"]);
    const pid = served.child.pid;
    if (pid === undefined) throw new Error("the gateway has no pid");
    return {
      child: served.child,
      pid,
      port,
      url: `http://127.0.0.1:${port}`,
      exit: served.exit,
      line: served.line,
      stderr: served.stderr,
      rssMb: () => rssMb(pid),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** VmRSS of a process, in MiB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
