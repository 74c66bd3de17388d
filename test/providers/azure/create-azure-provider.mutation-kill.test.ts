import { describe, expect, it } from "vitest";
import { createAzureProvider } from "../../../src/providers/azure/create-azure-provider.js";
import { openAITestConfig } from "../openai/openai-test-config.js";

// Kill tests for src/providers/azure/create-azure-provider.ts (mutation testing, see docs/testing.md).

describe("createAzureProvider", () => {
  it("refuses a config without the resource endpoint, naming the provider", () => {
    // The config schema refuses such a config too; this is the factory's own guard for configs built in code.
    const config = { ...openAITestConfig("azure", "http://127.0.0.1:1"), baseUrl: undefined };
    expect(() => createAzureProvider(config)).toThrow(
      new Error("azure provider azure-test needs baseUrl (the resource endpoint)"),
    );
  });
});
