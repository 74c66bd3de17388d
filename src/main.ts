import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { GatewayConfig, ProviderConfig } from "./config/config-schema.js";
import { ConfigError, loadConfigFile } from "./config/load-config.js";
import type { Print } from "./demo/demo-client.js";
import { createLogger } from "./telemetry/logger.js";
import { routeLibraryConsole } from "./telemetry/library-console.js";
import { Telemetry } from "./telemetry/telemetry.js";
import { telemetryEnv, type TelemetryEnv } from "./config/telemetry-env.js";
import { RequestObserver } from "./server/request-observer.js";
import { composePipeline } from "./pipeline/compose-pipeline.js";
import { Gateway } from "./pipeline/gateway.js";
import type { Provider } from "./providers/provider.js";
import { GatewayServer } from "./server/gateway-server.js";
import { HealthRegistry } from "./server/health-registry.js";
import { RefusalRecorder } from "./server/refusal-recorder.js";
import { registerHealthService } from "./server/health-service.js";
import { errorInterceptor } from "./server/error-interceptor.js";
import { requestIdInterceptor } from "./server/request-id-interceptor.js";
import { registerLLMService } from "./server/llm-service-handlers.js";
import { LLMService } from "../gen/llm/v1/llm_service_pb.js";
import { HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { PriceTable } from "./usage/price-table.js";
import { closeUsageDatabase, openUsageDatabase } from "./usage/usage-database.js";
import { KeyStore } from "./auth/key-store.js";
import { KeyRegistry } from "./auth/key-registry.js";
import { AlertOutbox } from "./usage/alerts/alert-outbox.js";
import { WebhookDispatcher } from "./usage/alerts/webhook-dispatcher.js";
import { AlertCenter } from "./usage/alerts/alert-center.js";
import { BudgetBook } from "./usage/budget-book.js";
import { loadSpend } from "./usage/spend-loader.js";
import { LedgerWriter } from "./usage/ledger-writer.js";
import { CostControl } from "./usage/cost-control.js";
import { queryUsage } from "./usage/usage-query.js";
import { authInterceptor } from "./server/auth-interceptor.js";
import { registerAdminService } from "./server/admin-service-handlers.js";
import { AdminService } from "../gen/llm/v1/admin_service_pb.js";

/** A gateway serving on its port. */
export interface RunningGateway {
  readonly port: number;
  /** http://host:port, for clients on this machine. */
  readonly url: string;
  readonly gateway: Gateway;
  readonly health: HealthRegistry;
  /** Whether client keys are checked (an `auth` section is configured). */
  readonly keysRequired: boolean;
  /** Drains in-flight calls (for the configured grace period) and stops; later calls wait for the first. */
  close(): Promise<void>;
}

/**
 * Builds the adapter for one configured provider. Each adapter (and its SDK) is loaded only when the config
 * uses it: start-up time and memory are not spent on SDKs no provider needs.
 */
export async function createProvider(config: ProviderConfig): Promise<Provider> {
  switch (config.type) {
    case "openai":
      return (await import("./providers/openai/create-openai-provider.js")).createOpenAIProvider(config);
    case "azure":
      return (await import("./providers/azure/create-azure-provider.js")).createAzureProvider(config);
    case "anthropic":
      return (await import("./providers/anthropic/create-anthropic-provider.js")).createAnthropicProvider(config);
    case "openai-compatible":
      return (
        await import("./providers/openai-compatible/create-openai-compatible-provider.js")
      ).createOpenAICompatibleProvider(config);
  }
}

/**
 * The composition root: providers from config, the pipeline around them, the gateway, the RPC services,
 * and the server. Nothing else in the code base wires components together.
 */
export async function startGateway(
  config: GatewayConfig,
  logger?: Logger,
  env: TelemetryEnv = telemetryEnv(),
): Promise<RunningGateway> {
  const telemetry = await Telemetry.start({
    config: config.telemetry,
    env,
    providers: config.providers,
    ...(logger ? { logger } : {}),
  });
  const adapters = new Map(
    await Promise.all(config.providers.map(async (p) => [p.name, await createProvider(p)] as const)),
  );
  const health = new HealthRegistry();
  for (const p of config.providers) health.set(p.name, Status.SERVING);

  const db = openUsageDatabase(config.storage.sqlite.path);
  const registry = config.auth === undefined ? undefined : new KeyRegistry(new KeyStore(db));
  if (registry === undefined)
    logger?.warn("no auth section: client keys are not checked and anyone who reaches the port can call providers");
  const outbox = new AlertOutbox(db);
  const dispatcher = new WebhookDispatcher({ outbox, webhooks: config.alerts.webhooks, logger });
  const alerts = new AlertCenter({
    config: config.alerts,
    outbox,
    dispatcher,
    logger,
    onAlert: (alert) => telemetry.recordAlert(alert.type),
  });
  const book = new BudgetBook(
    { maxWaitMs: config.budgets.maxWaitMs, onSpend: (spend) => alerts.budgetSpend(spend) },
    loadSpend(db),
  );
  const ledger = new LedgerWriter(db, {
    flushIntervalMs: config.storage.sqlite.flushIntervalMs,
    maxBatch: config.storage.sqlite.maxBatch,
    logger,
  });

  const pipeline = composePipeline(
    config,
    adapters,
    (provider, status, error) => {
      health.set(provider, status === "healthy" ? Status.SERVING : Status.NOT_SERVING);
      const line = { provider, status, error: error?.message };
      if (status === "healthy") logger?.info(line, "provider health changed");
      else logger?.warn(line, "provider health changed");
    },
    (provider, model, to, from) => alerts.circuitChanged(provider, model, to, from),
    (state, error) => {
      if (state === "redis-unreachable") {
        const mode = config.pipeline.rateLimiting.redisFailMode;
        logger?.error(
          { err: error, redisFailMode: mode },
          mode === "open"
            ? "rate-limit store: Redis unreachable; limits are enforced per process until it is back"
            : "rate-limit store: Redis unreachable; calls are refused until it is back (redisFailMode closed)",
        );
      } else {
        logger?.warn("rate-limit store: Redis reachable again; limits are shared again");
      }
    },
  );
  await pipeline.start();
  const costs = new CostControl({
    book,
    prices: new PriceTable(config.pricing.models),
    estimator: pipeline.estimator,
    defaultMaxTokens: new Map(config.providers.map((p) => [p.name, p.defaultMaxTokens])),
    tenantBudget: (tenant) => registry?.tenantBudget(tenant),
    record: (record) => ledger.append(record),
    ended: (model, status) => alerts.requestEnded(model, status),
  });
  const gateway = new Gateway(pipeline.router, costs);
  const removeGauges = telemetry.registerGauges({
    rateLimitStoreUp: () => (pipeline.storeState === "redis-unreachable" ? 0 : 1),
    queueDepth: () => pipeline.providers.map((p) => ({ limiter: p.limiter.name, depth: p.limiter.queued })),
    circuitStates: () =>
      pipeline.providers.flatMap((p) =>
        p.targets.map((t) => ({ provider: p.name, model: t.model, state: t.breaker.state })),
      ),
  });
  const refusals = new RefusalRecorder(telemetry);
  const server = await GatewayServer.start({
    host: config.server.host,
    port: config.server.port,
    maxRequestBytes: config.server.maxRequestBytes,
    shutdownGraceMs: config.server.shutdownGraceMs,
    limits: config.server,
    ...(config.server.tls === undefined
      ? {}
      : {
          tls: {
            certificate: config.server.tls.certificate.reveal(),
            privateKey: config.server.tls.privateKey.reveal(),
            ...(config.server.tls.clientCa === undefined ? {} : { clientCa: config.server.tls.clientCa.reveal() }),
          },
        }),
    unseenCalls: refusals,
    interceptors: [
      requestIdInterceptor,
      telemetry.interceptor,
      refusals.interceptor,
      errorInterceptor,
      authInterceptor(registry),
    ],
    routes: (r) => {
      registerLLMService(r, {
        gateway,
        providers: pipeline.providers,
        clientHeader: config.pipeline.rateLimiting.clientHeader,
        observer: new RequestObserver(telemetry, config.telemetry.recordContent),
      });
      registerAdminService(r, {
        auth:
          config.auth === undefined || registry === undefined
            ? undefined
            : { adminKey: config.auth.adminKey, registry },
        book,
        modelNames: new Set(config.models.map((m) => m.name)),
        usage: async (filter) => {
          await costs.drain();
          ledger.flush();
          return queryUsage(db, filter);
        },
      });
      registerHealthService(r, health);
    },
  });
  dispatcher.kick();
  health.set("", Status.SERVING);
  health.set(LLMService.typeName, Status.SERVING);
  health.set(AdminService.typeName, Status.SERVING);
  let closing: Promise<void> | undefined;
  const host = config.server.host === "0.0.0.0" || config.server.host === "::" ? "127.0.0.1" : config.server.host;
  logger?.info(
    {
      port: server.port,
      providers: config.providers.map((p) => ({ name: p.name, type: p.type })),
      models: config.models.length,
      tracing: telemetry.tracing,
      metrics: telemetry.prometheusUrl ?? telemetry.metrics,
    },
    "llm-gateway listening",
  );
  return {
    port: server.port,
    url: `${config.server.tls === undefined ? "http" : "https"}://${host}:${server.port}`,
    gateway,
    health,
    keysRequired: registry !== undefined,
    close: async () => {
      closing ??= (async () => {
        // Health says NOT_SERVING while the port still takes calls (drainDelayMs: load balancers notice), then
        // Watch streams end, the listener closes and in-flight calls get the grace period.
        health.shutdown();
        if (config.server.drainDelayMs > 0) await delay(config.server.drainDelayMs);
        health.close();
        await server.close();
        await costs.drain();
        ledger.close();
        await dispatcher.stop();
        await pipeline.stop();
        closeUsageDatabase(db);
        removeGauges();
        await telemetry.shutdown();
      })();
      return closing;
    },
  };
}

/** Starts the provider emulator and a gateway in front of it, runs the demo client, and stops both. */
export async function runDemo(print: Print): Promise<void> {
  const [{ startEmulator }, { demoConfig, demoEmulatorKey }, { runDemoClient }] = await Promise.all([
    import("./emulator/emulator.js"),
    import("./demo/demo-config.js"),
    import("./demo/demo-client.js"),
  ]);
  const emulator = await startEmulator({ apiKey: demoEmulatorKey, chunkDelayMs: 25 });
  const running = await startGateway(demoConfig(emulator.url));
  print(`Emulator (OpenAI, Azure, Anthropic APIs) at ${emulator.url}; gateway at ${running.url}\n\n`);
  try {
    await runDemoClient(running.url, print);
  } finally {
    await running.close();
    await emulator.close();
  }
}

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

/** The version in package.json (dist/src/main.js and src/main.ts sit at different depths below it). */
function packageVersion(): string {
  for (const path of ["../../package.json", "../package.json"]) {
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

/** Stops `close` on the first SIGTERM or SIGINT and exits; a second signal exits at once. */
function onSignals(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "stopping");
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
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
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
      return (await import("./cli/keys-command.js")).runKeysCommand(argv.slice(1), cli);
    case "usage":
      return (await import("./cli/usage-command.js")).runUsageCommand(argv.slice(1), cli);
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
      const starting = startGateway(config, logger, env);
      onSignals(logger, async () => (await starting).close());
      await starting;
      return undefined;
    }
    case "emulator": {
      const logger = createLogger({ level: "info" });
      const { startEmulator } = await import("./emulator/emulator.js");
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
      await runDemo((text) => process.stdout.write(text));
      return 0;
    default:
      process.stderr.write(`${command === undefined ? "" : `unknown command ${command}\n`}${usage}\n`);
      return 2;
  }
}
