import { main } from "../../src/cli/command-line.js";
import type { ReadyMessage } from "./ipc-messages.js";
import { serveParentRequests } from "./serve-parent-requests.js";

/**
 * A gateway in its own process, started exactly as `llm-gateway serve --config FILE --port N` starts it, so
 * its start-up, CPU time and RSS are its own. argv: the config file and the port. A `stop` request sends the
 * process SIGTERM, which the CLI answers with a clean drain and exit.
 */
async function runGatewayChild(): Promise<void> {
  const [configPath, port] = process.argv.slice(2);
  if (configPath === undefined || port === undefined) throw new Error("usage: gateway-child CONFIG PORT");
  serveParentRequests(() => process.kill(process.pid, "SIGTERM"));
  const code = await main(["serve", "--config", configPath, "--port", port]);
  if (code !== undefined) {
    process.exitCode = code;
    process.disconnect?.();
    return;
  }
  const ready: ReadyMessage = {
    type: "ready",
    url: `http://127.0.0.1:${port}`,
    sinceProcessStartMs: performance.now(),
  };
  process.send?.(ready);
}

runGatewayChild().catch((error: unknown) => {
  process.stderr.write(`gateway child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
