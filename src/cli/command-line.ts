import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { Logger } from "pino";
import type { GatewayConfig } from "../config/config-schema.js";
import { launchedByNpm } from "../config/launch-env.js";
import type { TelemetryEnv } from "../config/telemetry-env.js";
import { watchParent } from "./parent-watch.js";

/*
 * The command line. It loads only what the command asked for: `--help`, `--version` and the admin commands
 * never load the gateway (src/main.ts, the composition root, with every pipeline, server and telemetry
 * module), so they answer at once.
 */

const usage = `usage:
  llm-gateway help | --help | --version           this text | the version
  llm-gateway serve --config FILE [--port N]   serve the gateway
  llm-gateway emulator [--port N]              serve the provider emulator (OpenAI, Azure, Anthropic APIs)
  llm-gateway demo                             emulator + gateway + a client that shows each RPC
  llm-gateway keys create --tenant T --name N [--models a,b] [--budget USD] [--period total|day|month] [--rpm N] [--tpm N]
  llm-gateway keys list [--tenant T] [--all]    list client keys (--all: revoked ones too)
  llm-gateway keys revoke ID                    revoke a client key
  llm-gateway usage [--by model,day] [--since 7d] [--until TIME] [--tenant T] [--key ID] [--model M] [--provider P]
                                               requests, tokens and cost from the usage ledger
  keys and usage call a running gateway: --url URL (default http://127.0.0.1:50051), admin key from LLM_GATEWAY_ADMIN_KEY`;

function parseCommandLine(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      port: { type: "string", short: "p" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** The version in package.json (dist/src/cli/ and src/cli/ sit at different depths below it). */
function packageVersion(): string {
  for (const path of ["../../../package.json", "../../package.json"]) {
    try {
      const found: unknown = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));
      if (typeof found === "object" && found !== null && "name" in found && found.name === "llm-gateway") {
        return "version" in found && typeof found.version === "string" ? found.version : "unknown";
      }
    } catch {
      // Not at this depth: try the next.
    }
  }
  return "unknown";
}

/**
 * Stops `close` on the first SIGTERM or SIGINT and exits; a second signal exits at once. Started by npm (npx),
 * whose `sh -c` passes no signal on, the end of that parent process counts as a SIGTERM.
 */
function onSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals, reason?: string): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info(reason === undefined ? { signal } : { signal, reason }, "stopping");
    close().then(
      () => {
        logger.info("stopped");
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (launchedByNpm()) watchParent(() => stop("SIGTERM", "the npm process that started it has ended"));
}

/** The command line: `serve`, `emulator`, `demo`, and the admin commands `keys` and `usage`. Returns the process exit code for commands that end. */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  // The admin commands parse their own flags, which the shared parseArgs below would reject.
  const cli = {
    print: (text: string) => void process.stdout.write(text),
    printError: (text: string) => void process.stderr.write(text),
  };
  switch (argv[0]) {
    case "keys":
      return (await import("./keys-command.js")).runKeysCommand(argv.slice(1), cli);
    case "usage":
      return (await import("./usage-command.js")).runUsageCommand(argv.slice(1), cli);
    case "version":
    case "--version":
    case "-v":
      cli.print(`llm-gateway ${packageVersion()}\n`);
      return 0;
  }
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    cli.printError(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
    return 2;
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  // `--help` anywhere, and `help`, print the usage and start nothing.
  if (values.help === true || command === "help") {
    cli.print(`${usage}\n`);
    return 0;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    process.stderr.write(`--port: not a port number: ${values.port}\n`);
    return 2;
  }
  switch (command) {
    case "serve": {
      if (values.config === undefined) {
        process.stderr.write(`serve needs --config FILE\n${usage}\n`);
        return 2;
      }
      const [{ ConfigError, loadConfigFile }, { telemetryEnv }, { createLogger }, { routeLibraryConsole }] =
        await Promise.all([
          import("../config/load-config.js"),
          import("../config/telemetry-env.js"),
          import("../telemetry/logger.js"),
          import("../telemetry/library-console.js"),
        ]);
      let config: GatewayConfig;
      let env: TelemetryEnv;
      try {
        config = loadConfigFile(values.config);
        env = telemetryEnv();
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`${values.config}: ${error.message}\n`);
        return 2;
      }
      if (port !== undefined) config.server.port = port;
      const logger = createLogger({ level: config.logging.level });
      routeLibraryConsole(logger);
      // Signals are handled from the start: one that arrives while the gateway starts stops it once started.
      const starting = import("../main.js").then(({ startGateway }) => startGateway(config, logger, env));
      onSignals(logger, async () => (await starting).close());
      await starting;
      return undefined;
    }
    case "emulator": {
      const { createLogger } = await import("../telemetry/logger.js");
      const logger = createLogger({ level: "info" });
      const { startEmulator } = await import("../emulator/emulator.js");
      // As for serve, signals are handled from the start, before the line saying where it listens.
      const starting = startEmulator({ host: "0.0.0.0", port: port ?? 8081 });
      onSignals(logger, async () => (await starting).close());
      const emulator = await starting;
      logger.info(
        { port: emulator.port, openai: `${emulator.url}/v1`, azure: emulator.url, anthropic: emulator.url },
        "emulator listening",
      );
      return undefined;
    }
    case "demo":
      await (await import("../main.js")).runDemo((text) => process.stdout.write(text));
      return 0;
    default:
      process.stderr.write(`${command === undefined ? "" : `unknown command ${command}\n`}${usage}\n`);
      return 2;
  }
}
