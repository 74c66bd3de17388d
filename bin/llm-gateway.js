#!/usr/bin/env node
import { main } from "../dist/src/cli/command-line.js";

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`llm-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    // A start-up that failed half-way may leave servers or timers open (a metrics endpoint, health checks):
    // exit anyway, once stderr had a moment to drain.
    setTimeout(() => process.exit(1), 100).unref();
  },
);
