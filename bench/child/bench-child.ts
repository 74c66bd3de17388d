import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildMessage, ParentMessage, ReadyMessage, StatsReply } from "./ipc-messages.js";

/** A child process's resource use at one moment. */
export interface ProcessStats {
  /** Cumulative user + system CPU time, in milliseconds. */
  cpuMs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** How to start a child. */
export interface BenchChildOptions {
  /** The child module, next to this file: "gateway-child.js" or "emulator-child.js". */
  module: "gateway-child.js" | "emulator-child.js";
  args: string[];
  /** Extra environment (OTEL_* for the tracing row). */
  env?: Record<string, string>;
  /** Extra node flags (`--cpu-prof`, `--cpu-prof-dir=...`). */
  nodeFlags?: string[];
  /** How long the child may take to be ready. Default 30 s. */
  readyTimeoutMs?: number;
}

/** The parent's environment without OTEL_* settings: only the tracing row turns telemetry export on. */
function inheritedEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("OTEL_")));
}

function isChildMessage(message: unknown): message is ChildMessage {
  return (
    typeof message === "object" &&
    message !== null &&
    "type" in message &&
    (message.type === "ready" || message.type === "stats")
  );
}

/**
 * A benchmark child process (gateway or emulator) with an IPC channel: `ready` tells when it serves, `stats()`
 * reads its own `process.cpuUsage()` and RSS, `stop()` ends it cleanly. Its stdout goes nowhere (the gateway
 * writes its request log lines there, as in production, and they cost what they cost); stderr is inherited.
 */
export class BenchChild {
  /** performance.now() of the parent when the process was spawned. */
  readonly spawnedAt: number;
  readonly #process: ChildProcess;
  readonly #pending = new Map<number, (reply: StatsReply) => void>();
  readonly #ready: Promise<ReadyMessage & { receivedAt: number }>;
  readonly #exited: Promise<number | null>;
  #nextId = 1;

  constructor(options: BenchChildOptions) {
    const modulePath = fileURLToPath(new URL(options.module, import.meta.url));
    this.spawnedAt = performance.now();
    this.#process = fork(modulePath, options.args, {
      env: { ...inheritedEnv(), ...options.env },
      execArgv: options.nodeFlags ?? [],
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    });
    this.#exited = new Promise((resolve) => this.#process.once("exit", (code) => resolve(code)));
    this.#ready = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${options.module} was not ready within ${options.readyTimeoutMs ?? 30_000} ms`)),
        options.readyTimeoutMs ?? 30_000,
      );
      this.#process.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${options.module} exited with code ${String(code)} before it was ready`));
      });
      this.#process.on("message", (message: unknown) => {
        if (!isChildMessage(message)) return;
        if (message.type === "ready") {
          clearTimeout(timer);
          resolve({ ...message, receivedAt: performance.now() });
        } else {
          this.#pending.get(message.id)?.(message);
          this.#pending.delete(message.id);
        }
      });
    });
    this.#ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Settles when the child reports it serves, with the parent's performance.now() at that moment. */
  ready(): Promise<ReadyMessage & { receivedAt: number }> {
    return this.#ready;
  }

  /** The child's cumulative CPU time and current memory, as the child itself measures them. */
  stats(): Promise<ProcessStats> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error("the child did not answer a stats request within 30 s"));
      }, 30_000);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve({
          cpuMs: (reply.cpuUserUs + reply.cpuSystemUs) / 1000,
          rssBytes: reply.rssBytes,
          heapUsedBytes: reply.heapUsedBytes,
        });
      });
      this.#send({ type: "stats", id });
    });
  }

  /** Asks the child to stop cleanly; kills it if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    this.#send({ type: "stop" });
    const timer = setTimeout(() => this.#process.kill("SIGKILL"), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  #send(message: ParentMessage): void {
    if (this.#process.connected) this.#process.send(message);
  }
}
