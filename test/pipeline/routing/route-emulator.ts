import { afterAll, beforeAll, beforeEach } from "vitest";
import { providerSchema, type ProviderConfig } from "../../../src/config/config-schema.js";
import type { ProviderType } from "../../../src/config/provider-type.js";
import { Secret } from "../../../src/config/secret.js";
import { startEmulator, type Emulator, type EmulatorRecord } from "../../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider } from "../../../src/providers/provider.js";

/** One emulator for a test file, and real adapters pointing at it. */
export interface RouteEmulator {
  emulator(): Emulator;
  /** A real adapter of `type` named `name` talking to the emulator. */
  adapter(type: Exclude<ProviderType, "openai-compatible">, name: string): Provider;
  /** The emulator's exchanges for one upstream model. */
  recordsOf(model: string): EmulatorRecord[];
}

const adapterFactories = {
  openai: { create: createOpenAIProvider, baseUrl: (url: string) => `${url}/v1` },
  azure: { create: createAzureProvider, baseUrl: (url: string) => url },
  anthropic: { create: createAnthropicProvider, baseUrl: (url: string) => url },
};

/** Registers hooks: an emulator started before the file's tests, reset (records and fault) before each, closed after. */
export function useRouteEmulator(): RouteEmulator {
  let running: Emulator | undefined;
  const emulator = (): Emulator => {
    if (running === undefined) throw new Error("the emulator is not running");
    return running;
  };
  beforeAll(async () => {
    running = await startEmulator();
  });
  afterAll(async () => {
    await running?.close();
  });
  beforeEach(() => {
    emulator().reset();
    emulator().setFault(undefined);
  });
  return {
    emulator,
    adapter(type, name) {
      const factory = adapterFactories[type];
      const config: ProviderConfig = providerSchema.parse({
        name,
        type,
        apiKey: new Secret("sk-route-test-key"),
        baseUrl: factory.baseUrl(emulator().url),
        timeoutMs: 10_000,
      });
      return factory.create(config);
    },
    recordsOf: (model) => emulator().records.filter((record) => record.request.model === model),
  };
}
