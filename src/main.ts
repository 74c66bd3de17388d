import { setTimeout as delay } from "node:timers/promises";
import type { Logger } from "pino";
import type { GatewayConfig, ProviderConfig } from "./config/config-schema.js";
import type { Print } from "./demo/demo-client.js";
import { Telemetry } from "./telemetry/telemetry.js";
import { telemetryEnv, type TelemetryEnv } from "./config/telemetry-env.js";
import { RequestObserver } from "./server/request-observer.js";
import { composePipeline } from "./pipeline/compose-pipeline.js";
import { Gateway } from "./pipeline/gateway.js";
import type { Provider } from "./providers/provider.js";
import { GatewayServer } from "./server/gateway-server.js";
import { HealthRegistry } from "./server/health-registry.js";
import { RefusalRecorder } from "./server/refusal-recorder.js";
import { healthRequestLimit, registerHealthService } from "./server/health-service.js";
import { errorInterceptor } from "./server/error-interceptor.js";
import { requestIdInterceptor } from "./server/request-id-interceptor.js";
import { registerLLMService } from "./server/llm-service-handlers.js";
import { countedRequestFields } from "./server/request-limits.js";
import { useNativeUtf8Check } from "./server/text-encoding.js";
import { LLMService } from "../gen/llm/v1/llm_service_pb.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
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
  useNativeUtf8Check();
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
    serviceRequestLimits: { [Health.typeName]: healthRequestLimit },
    countedFields: countedRequestFields,
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
