import { startEmulator, type EmulatedRequest } from "../../src/emulator/emulator.js";
import type { Fault } from "../../src/emulator/fault.js";
import type { ReadyMessage } from "./ipc-messages.js";
import { serveParentRequests } from "./serve-parent-requests.js";

/** How the benchmark's emulator is set up, passed as JSON in argv. */
export interface EmulatorChildOptions {
  apiKey: string;
  /** Delay before every answer (the "set delay" upstream). */
  latencyMs: number;
  /** Per upstream model name: a fault for its requests (the slow-stream models). */
  faultsByModel: Record<string, Fault>;
  /** Large enough for the 1 MB prompts. */
  contextWindow: number;
}

/** The provider emulator in its own process, so the direct call and the gateway's upstream cost the same. */
async function runEmulatorChild(): Promise<void> {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("usage: emulator-child OPTIONS_JSON");
  const options = JSON.parse(raw) as EmulatorChildOptions;
  const base: Fault | undefined = options.latencyMs > 0 ? { latencyMs: options.latencyMs } : undefined;
  const emulator = await startEmulator({
    apiKey: options.apiKey,
    contextWindow: options.contextWindow,
    maxRecords: 16,
    fault: (request: EmulatedRequest) => {
      const own = options.faultsByModel[request.model];
      return own === undefined ? base : { ...base, ...own };
    },
  });
  serveParentRequests(() => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  const ready: ReadyMessage = { type: "ready", url: emulator.url, sinceProcessStartMs: performance.now() };
  process.send?.(ready);
}

runEmulatorChild().catch((error: unknown) => {
  process.stderr.write(`emulator child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
