import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { LLMService } from "../../gen/llm/v1/llm_service_pb.js";
import { AdminService } from "../../gen/llm/v1/admin_service_pb.js";
import type { Logger } from "pino";
import { parseConfigObject } from "../../src/config/load-config.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { startGateway, type RunningGateway } from "../../src/main.js";

/** The key the test emulator accepts. */
export const testKey = "sk-test-gateway-key-0123456789";
/** A key the emulator rejects, configured for the `wrong-key` provider. */
export const wrongKey = "sk-wrong-key-9876543210";

/** An emulator, a gateway in front of it, and clients of every protocol the gateway serves. */
export interface Harness {
  emulator: Emulator;
  gateway: RunningGateway;
  /** gRPC over HTTP/2. */
  grpc: Client<typeof LLMService>;
  /** Connect (JSON) over HTTP/1.1. */
  connectJson: Client<typeof LLMService>;
  /** gRPC-Web over HTTP/1.1. */
  grpcWeb: Client<typeof LLMService>;
  /** AdminService over gRPC (send the admin key as `authorization: Bearer <key>` per call). */
  admin: Client<typeof AdminService>;
  close(): Promise<void>;
}

/** Extra config merged into the harness config. */
export interface HarnessOptions {
  emulator?: EmulatorOptions;
  server?: Record<string, unknown>;
  /** Merged into every provider entry. */
  providerDefaults?: Record<string, unknown>;
  /** The config's `pipeline` section. */
  pipeline?: Record<string, unknown>;
  /** Merged into every model entry (routing, retry). */
  modelDefaults?: Record<string, unknown>;
  /** The config's `telemetry` section. */
  telemetry?: Record<string, unknown>;
  /** Extra models (name and targets over the harness providers). */
  extraModels?: Record<string, unknown>[];
  /** Receives the gateway's log lines. */
  logger?: Logger;
  /** OTEL_* settings (none: telemetry off). */
  otelEnv?: Record<string, string>;
  /** Turns key checking on with this admin key (the config's `auth.adminKey`). */
  adminKey?: string;
  /** The SQLite database (default `:memory:`); a file path keeps keys, ledger and alert state across restarts. */
  databasePath?: string;
  /** The config's `alerts` section. */
  alerts?: Record<string, unknown>;
  /** The config's `budgets` section. */
  budgets?: Record<string, unknown>;
  /** The config's `pricing.models`. */
  prices?: Record<string, unknown>;
}

/**
 * Model names of the harness: one per provider type, an embedding model, Anthropic for "unsupported", and a
 * provider configured with a key the emulator rejects.
 */
export const models = {
  openai: "gpt-4o",
  azure: "azure-gpt-4o",
  anthropic: "claude-sonnet",
  compatible: "llama",
  embed: "text-embedding-3-small",
  anthropicEmbed: "claude-embed",
  wrongKey: "gpt-wrong-key",
} as const;

/** Starts an emulator and a gateway configured with one provider of each type pointing at it. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const emulator = await startEmulator({ apiKey: testKey, ...options.emulator });
  const extra = options.providerDefaults ?? {};
  const config = parseConfigObject(
    {
      server: { host: "127.0.0.1", port: 0, shutdownGraceMs: 200, ...options.server },
      logging: { level: "silent" },
      storage: { sqlite: { path: options.databasePath ?? ":memory:" } },
      ...(options.adminKey === undefined ? {} : { auth: { adminKey: "${ADMIN_KEY}" } }),
      ...(options.alerts === undefined ? {} : { alerts: options.alerts }),
      ...(options.budgets === undefined ? {} : { budgets: options.budgets }),
      ...(options.prices === undefined ? {} : { pricing: { models: options.prices } }),
      pipeline: options.pipeline ?? {},
      telemetry: options.telemetry ?? {},
      providers: [
        { name: "openai", type: "openai", apiKey: "${KEY}", baseUrl: `${emulator.url}/v1`, ...extra },
        {
          name: "azure-east",
          type: "azure",
          apiKey: "${KEY}",
          baseUrl: emulator.url,
          apiVersion: "2024-10-21",
          ...extra,
        },
        { name: "claude", type: "anthropic", apiKey: "${KEY}", baseUrl: emulator.url, ...extra },
        { name: "vllm", type: "openai-compatible", apiKey: "${KEY}", baseUrl: `${emulator.url}/v1`, ...extra },
        {
          name: "openai-misconfigured",
          type: "openai",
          apiKey: "${WRONG_KEY}",
          baseUrl: `${emulator.url}/v1`,
          ...extra,
        },
      ],
      models: [
        { name: models.openai, targets: [{ provider: "openai", model: "gpt-4o" }] },
        { name: models.azure, targets: [{ provider: "azure-east", model: "gpt-4o" }] },
        { name: models.anthropic, targets: [{ provider: "claude", model: "claude-sonnet-4-20250514" }] },
        { name: models.compatible, targets: [{ provider: "vllm", model: "meta-llama/Llama-3.1-8B-Instruct" }] },
        { name: models.embed, targets: [{ provider: "openai", model: "text-embedding-3-small" }] },
        { name: models.anthropicEmbed, targets: [{ provider: "claude", model: "claude-sonnet-4-20250514" }] },
        { name: models.wrongKey, targets: [{ provider: "openai-misconfigured", model: "gpt-4o" }] },
        ...(options.extraModels ?? []),
      ].map((model) => ({ ...model, ...options.modelDefaults })),
    },
    {
      env: {
        KEY: testKey,
        WRONG_KEY: wrongKey,
        ...(options.adminKey === undefined ? {} : { ADMIN_KEY: options.adminKey }),
      },
    },
  );
  const gateway = await startGateway(config, options.logger, telemetryEnv(options.otelEnv ?? {}));
  return {
    emulator,
    gateway,
    grpc: createClient(LLMService, createGrpcTransport({ baseUrl: gateway.url })),
    connectJson: createClient(
      LLMService,
      createConnectTransport({ baseUrl: gateway.url, httpVersion: "1.1", useBinaryFormat: false }),
    ),
    grpcWeb: createClient(LLMService, createGrpcWebTransport({ baseUrl: gateway.url, httpVersion: "1.1" })),
    admin: createClient(AdminService, createGrpcTransport({ baseUrl: gateway.url })),
    async close() {
      await gateway.close();
      await emulator.close();
    },
  };
}
