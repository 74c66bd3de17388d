import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderConfigInput } from "../../src/config/config-schema.js";
import type { ProviderType } from "../../src/config/provider-type.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../src/providers/anthropic/create-anthropic-provider.js";
import { createAzureProvider } from "../../src/providers/azure/create-azure-provider.js";
import { createOpenAICompatibleProvider } from "../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { createOpenAIProvider } from "../../src/providers/openai/create-openai-provider.js";
import type { Provider } from "../../src/providers/provider.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { anthropicTestConfig } from "./anthropic/anthropic-test-config.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { startUnacceptingServer, type UnacceptingServer } from "./timeout-unaccepting-server.js";

/** Every factory, with the base URL its SDK expects for a server at `url`. */
const factories: ReadonlyArray<{
  type: ProviderType;
  build: (url: string, overrides: Partial<ProviderConfigInput>) => Provider;
}> = [
  { type: "openai", build: (url, o) => createOpenAIProvider(openAITestConfig("openai", `${url}/v1`, o)) },
  { type: "azure", build: (url, o) => createAzureProvider(openAITestConfig("azure", url, o)) },
  {
    type: "openai-compatible",
    build: (url, o) => createOpenAICompatibleProvider(openAITestConfig("openai-compatible", `${url}/v1`, o)),
  },
  { type: "anthropic", build: (url, o) => createAnthropicProvider(anthropicTestConfig(url, o)) },
];

const request = { model: "gpt-4o-mini", messages: [{ role: "user" as const, content: "hello there" }] };

describe("timeouts.connectMs in the adapter factories", () => {
  let blackhole: UnacceptingServer;
  let emulator: Emulator;

  beforeAll(async () => {
    blackhole = await startUnacceptingServer();
    emulator = await startEmulator();
  });

  afterAll(async () => {
    await blackhole.close();
    await emulator.close();
  });

  it.each(factories)(
    "$type gives up a connect that does not complete within connectMs",
    async ({ build }) => {
      // Neither the SDK's timeout (60 s) nor undici's default connect timeout (10 s) can end this call within
      // the test's 5 s: only connectMs can.
      const provider = build(blackhole.url, { timeoutMs: 60_000, timeouts: { connectMs: 150 } });
      const error: unknown = await provider.chat(request, new AbortController().signal).catch((e: unknown) => e);
      // The SDKs report undici's ConnectTimeoutError as their connection timeout error.
      expect(ProviderError.is(error, "timeout")).toBe(true);
      expect(error).toMatchObject({ retryable: true, status: undefined });
    },
    5_000,
  );

  it.each(factories)("$type serves calls and streams through its connection pool", async ({ build }) => {
    const provider = build(emulator.url, { timeouts: { connectMs: 150 } });
    const result = await provider.chat(request, new AbortController().signal);
    expect(result.text).toBe("Echo: hello there");
    const deltas: string[] = [];
    for await (const part of provider.streamChat(request, new AbortController().signal)) {
      if (part.type === "delta") deltas.push(part.text);
    }
    expect(deltas.join("")).toBe("Echo: hello there");
  });
});
