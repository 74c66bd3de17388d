import type { BenchOptions } from "../bench-options.js";
import type { Served } from "../setup/bench-processes.js";

/** What every suite runs against. */
export interface BenchContext {
  options: BenchOptions;
  emulator: Served;
  gateway: Served;
  /** Native load tools found on this machine (and allowed by the options). */
  tools: { wrk: boolean; h2load: boolean };
  /** A scratch directory for config files, request bodies, tool logs. */
  workDir: string;
  /** Progress lines, on stderr. */
  log(message: string): void;
}
