import { Writable } from "node:stream";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { vi } from "vitest";
import { Health } from "../../../gen/grpc/health/v1/health_pb.js";
import type { EmulatedRequest } from "../../../src/emulator/emulator.js";
import type { Fault } from "../../../src/emulator/fault.js";
import { createLogger } from "../../../src/telemetry/logger.js";
import type { TokenUsage } from "../../../src/providers/provider.js";
import prices from "../../../src/usage/prices.json" with { type: "json" };
import { startHarness, type Harness, type HarnessOptions } from "../../support/gateway-harness.js";
import { OtlpReceiver } from "./otlp-receiver.js";

/** A client's credential: sent as request headers and metadata, must never be exported or logged. */
export const clientKey = "ck-client-secret-9876543210";

/**
 * Models the telemetry tests add to the harness's:
 * - `gpt-4o-ha`: OpenAI's gpt-4o, then Azure's, two attempts per target with a jitter below 50 ms;
 * - `gpt-4o-mini`: OpenAI alone, one attempt: a 429 with a retry delay to it holds OpenAI's limiter.
 */
export const telemetryModels = { ha: "gpt-4o-ha", primer: "gpt-4o-mini" } as const;

const extraModels = [
  {
    name: telemetryModels.ha,
    targets: [
      { provider: "openai", model: "gpt-4o" },
      { provider: "azure-east", model: "gpt-4o" },
    ],
    retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 50, budget: { ratio: 1, minPerSecond: 10 } },
  },
  { name: telemetryModels.primer, targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
];

/** How long the primer's 429 asks OpenAI's callers to wait. */
export const primerHoldMs = 300;
/** Azure's delay before its first chunk in the flaky scenario. */
export const azureTtftMs = 200;

/**
 * The emulator's faults for the flaky scenario: the primer (gpt-4o-mini) gets a 429 with retry-after-ms, the
 * first OpenAI gpt-4o call a 429 without one (retried after the backoff), the second a 502 (fallback), and
 * Azure answers after `azureTtftMs`. Everything else is answered normally.
 */
export function flakyFaults(): (request: EmulatedRequest) => Fault | undefined {
  let gpt4oCalls = 0;
  return (request) => {
    if (request.api === "openai" && request.model === "gpt-4o-mini") return { status: 429, retryAfterMs: primerHoldMs };
    if (request.api === "openai" && request.model === "gpt-4o")
      return ++gpt4oCalls === 1 ? { status: 429 } : { status: 502 };
    if (request.api === "azure") return { ttftMs: azureTtftMs };
    return undefined;
  };
}

/** A gateway (the real startGateway, via the harness) exporting to an in-process OTLP receiver, with its log lines. */
export interface TelemetryGateway {
  h: Harness;
  receiver: OtlpReceiver;
  /** The logger the gateway writes to (the real one, createLogger's). */
  logger: Logger;
  /** Every log line the gateway wrote, parsed. */
  lines: Record<string, unknown>[];
  /** The gateway's grpc.health.v1.Health service. */
  health: Client<typeof Health>;
  /** The "llm-gateway listening" line. */
  listening(): Record<string, unknown>;
  /** The Prometheus scrape URL, from the listening line. */
  prometheusUrl(): string;
  /** Stops the gateway (flushing and shutting down its exporters); once, however often called. */
  closeGateway(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an OTLP receiver and a gateway whose `OTEL_*` settings are `otelEnv` with `RECEIVER` replaced by the
 * receiver's URL; the batch span processor exports every 20 ms. Pipeline: one attempt per call (the models of
 * `telemetryModels` excepted).
 */
export async function startTelemetryGateway(
  options: Omit<HarnessOptions, "otelEnv" | "logger"> & { otelEnv: Record<string, string> },
): Promise<TelemetryGateway> {
  vi.stubEnv("OTEL_BSP_SCHEDULE_DELAY", "20");
  const receiver = await OtlpReceiver.start();
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: "info", destination });
  const h = await startHarness({
    pipeline: { retry: { maxAttempts: 1 } },
    ...options,
    extraModels: [...extraModels, ...(options.extraModels ?? [])],
    otelEnv: Object.fromEntries(
      Object.entries(options.otelEnv).map(([k, v]) => [k, v.replace("RECEIVER", receiver.url)]),
    ),
    logger,
  });
  let closed: Promise<void> | undefined;
  const closeGateway = (): Promise<void> => (closed ??= h.gateway.close());
  const listening = (): Record<string, unknown> => {
    const line = lines.find((l) => l["msg"] === "llm-gateway listening");
    if (line === undefined) throw new Error("no listening line");
    return line;
  };
  return {
    h,
    receiver,
    logger,
    lines,
    health: createClient(Health, createGrpcTransport({ baseUrl: h.gateway.url })),
    listening,
    prometheusUrl() {
      const url = listening()["metrics"];
      if (typeof url !== "string") throw new Error(`no Prometheus URL in the listening line: ${String(url)}`);
      return url;
    },
    closeGateway,
    async close() {
      await closeGateway();
      await h.emulator.close();
      await receiver.close();
    },
  };
}

/**
 * Polls `probe` every 10 ms until it returns something other than undefined, and returns that; fails after
 * `timeoutMs` with `what` in the message.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Price = { input: number; cachedInput?: number; cacheWrite?: number; output?: number };

/** Pico-USD of `tokens` at `usdPerMillion` (USD per million tokens is micro-USD per token). */
const picos = (tokens: number, usdPerMillion: number): bigint =>
  BigInt(tokens) * BigInt(Math.round(usdPerMillion * 1_000_000));

/**
 * The cost in micro-USD of `usage` at a price of src/usage/prices.json: fresh prompt tokens at the input price,
 * cached ones at the cached-input price, output at the output price; the pico-USD sum rounded half up.
 */
export function costMicros(
  price: Price,
  usage: Pick<TokenUsage, "promptTokens" | "completionTokens" | "cachedPromptTokens">,
): number {
  const total =
    picos(usage.promptTokens - usage.cachedPromptTokens, price.input) +
    picos(usage.cachedPromptTokens, price.cachedInput ?? price.input) +
    picos(usage.completionTokens, price.output ?? 0);
  return Number((total + 500_000n) / 1_000_000n);
}

/** The shipped price of gpt-4o (OpenAI and Azure deployments named gpt-4o). */
export const gpt4oPrice: Price = prices.providers.openai["gpt-4o"];
