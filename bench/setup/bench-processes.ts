import { writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { BenchChild } from "../child/bench-child.js";
import type { EmulatorChildOptions } from "../child/emulator-child.js";
import { benchGatewayConfig, benchKey, benchKeyVariable, benchModels } from "./bench-config.js";

/** A process under test and where it serves. */
export interface Served {
  child: BenchChild;
  url: string;
}

/** How to start a gateway child. */
export interface GatewayStart {
  emulatorUrl: string;
  workDir: string;
  logLevel: string;
  /** OTEL_* variables (the tracing row). */
  env?: Record<string, string>;
  /** Where `--cpu-prof` writes; no profiling when absent. */
  profileDir?: string | undefined;
  /** Distinguishes the config files of several gateways in one run. */
  label: string;
}

/** A free TCP port on the loopback interface. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/**
 * Starts the emulator in its own process: every answer after `upstreamLatencyMs`, and the slow model's streams
 * one chunk every `slowChunkDelayMs`.
 */
export async function startEmulatorChild(upstreamLatencyMs: number, slowChunkDelayMs: number): Promise<Served> {
  const options: EmulatorChildOptions = {
    apiKey: benchKey,
    latencyMs: upstreamLatencyMs,
    faultsByModel: { [benchModels.slow.upstream]: { chunkDelayMs: slowChunkDelayMs } },
    contextWindow: 100_000_000,
  };
  const child = new BenchChild({ module: "emulator-child.js", args: [JSON.stringify(options)] });
  const ready = await child.ready();
  return { child, url: ready.url };
}

/**
 * Starts a gateway in its own process through the CLI (`serve --config FILE --port N`), with the benchmark's
 * full-pipeline config and its SQLite usage ledger in `workDir`. Resolves once it serves.
 */
export async function startGatewayChild(
  start: GatewayStart,
): Promise<Served & { ready: Awaited<ReturnType<BenchChild["ready"]>> }> {
  const configPath = join(start.workDir, `gateway-${start.label}.yaml`);
  // The usage ledger is on (as in production), in the run's work directory.
  const config = {
    ...benchGatewayConfig(start.emulatorUrl, start.logLevel),
    storage: { sqlite: { path: join(start.workDir, `gateway-${start.label}.db`) } },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const port = await freePort();
  const nodeFlags = start.profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${start.profileDir}`];
  const child = new BenchChild({
    module: "gateway-child.js",
    args: [configPath, String(port)],
    env: { [benchKeyVariable]: benchKey, ...start.env },
    nodeFlags,
  });
  const ready = await child.ready();
  return { child, url: ready.url, ready };
}
