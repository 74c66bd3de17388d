import { afterEach, describe, expect, it, vi } from "vitest";
import { createOpenAICompatibleProvider } from "../../src/providers/openai-compatible/create-openai-compatible-provider.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";
import { openAITestConfig } from "./openai/openai-test-config.js";
import { chatCompletionBody } from "./openai/scripted-openai-provider.js";

// Kill tests for src/providers/sdk-client-options.ts (mutation testing, see docs/testing.md): the SDKs' own
// logging stays off even when the environment asks for it, because at OPENAI_LOG=debug the SDK writes every
// request (prompt included) to the console, around the gateway's logger and its redaction.

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("sdkClientOptions: the SDK's logging", () => {
  it("stays silent through a call when OPENAI_LOG=debug is set", async () => {
    vi.stubEnv("OPENAI_LOG", "debug");
    const written: unknown[][] = [];
    for (const level of ["debug", "info", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        written.push(args);
      });
    }
    const server = await startScriptedServer({
      status: 200,
      headers: jsonHeaders,
      body: chatCompletionBody(),
    });
    try {
      const provider = createOpenAICompatibleProvider(openAITestConfig("openai-compatible", `${server.url}/v1`));
      const request = { model: "gpt-test", messages: [{ role: "user" as const, content: "a private prompt" }] };
      const result = await provider.chat(request, new AbortController().signal);
      expect(result.text).toBe("Hello");
      expect(written).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
