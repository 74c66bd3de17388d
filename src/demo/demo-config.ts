import type { GatewayConfig } from "../config/config-schema.js";
import { parseConfigObject } from "../config/load-config.js";

/** The key the demo's emulator accepts; it is not a real credential. */
const demoKey = "sk-emulator-demo";

/**
 * A gateway config whose providers (one of each wire protocol) all point at the emulator at `emulatorUrl`,
 * written exactly as a user's YAML would be, keys by `${ENV}` reference.
 */
export function demoConfig(emulatorUrl: string, port = 0): GatewayConfig {
  return parseConfigObject(
    {
      server: { host: "127.0.0.1", port, shutdownGraceMs: 1000 },
      logging: { level: "warn" },
      // The demo keeps nothing: its usage ledger lives in memory.
      storage: { sqlite: { path: ":memory:" } },
      providers: [
        { name: "openai", type: "openai", apiKey: "${OPENAI_API_KEY}", baseUrl: `${emulatorUrl}/v1` },
        {
          name: "azure-east",
          type: "azure",
          apiKey: "${AZURE_OPENAI_API_KEY}",
          baseUrl: emulatorUrl,
          apiVersion: "2024-10-21",
        },
        { name: "claude", type: "anthropic", apiKey: "${ANTHROPIC_API_KEY}", baseUrl: emulatorUrl },
        { name: "local-vllm", type: "openai-compatible", apiKey: "${VLLM_API_KEY}", baseUrl: `${emulatorUrl}/v1` },
      ],
      models: [
        {
          name: "gpt-4o",
          targets: [
            { provider: "azure-east", model: "gpt-4o" },
            { provider: "openai", model: "gpt-4o" },
          ],
        },
        { name: "gpt-4o-mini", targets: [{ provider: "openai", model: "gpt-4o-mini" }] },
        { name: "claude-sonnet", targets: [{ provider: "claude", model: "claude-sonnet-4-20250514" }] },
        { name: "llama", targets: [{ provider: "local-vllm", model: "meta-llama/Llama-3.1-8B-Instruct" }] },
        { name: "text-embedding-3-small", targets: [{ provider: "openai", model: "text-embedding-3-small" }] },
      ],
    },
    {
      env: {
        OPENAI_API_KEY: demoKey,
        AZURE_OPENAI_API_KEY: demoKey,
        ANTHROPIC_API_KEY: demoKey,
        VLLM_API_KEY: demoKey,
      },
    },
  );
}

/** The key the demo's emulator is started with. */
export const demoEmulatorKey = demoKey;
