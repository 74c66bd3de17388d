import { describe, expect, it } from "vitest";
import { createOpenAICompatibleProvider } from "../../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { openAITestConfig } from "../openai/openai-test-config.js";

// Kill tests for src/providers/openai-compatible/create-openai-compatible-provider.ts (mutation testing, see
// docs/testing.md).

describe("createOpenAICompatibleProvider", () => {
  it("refuses a config without baseUrl, naming the provider", () => {
    // The config schema refuses such a config too; this is the factory's own guard for configs built in code.
    const config = { ...openAITestConfig("openai-compatible", "http://127.0.0.1:1"), baseUrl: undefined };
    expect(() => createOpenAICompatibleProvider(config)).toThrow(
      new Error("openai-compatible provider openai-compatible-test needs baseUrl"),
    );
  });
});
