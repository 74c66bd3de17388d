import { describe, expect, it } from "vitest";
import { genAiProviderName } from "../../src/telemetry/gen-ai-provider-name.js";

describe("genAiProviderName", () => {
  it("uses the semantic-convention values, and the configured name for OpenAI-compatible servers", () => {
    expect(genAiProviderName("openai", "primary")).toBe("openai");
    expect(genAiProviderName("azure", "azure-east")).toBe("azure.ai.openai");
    expect(genAiProviderName("anthropic", "claude")).toBe("anthropic");
    expect(genAiProviderName("openai-compatible", "vllm-local")).toBe("vllm-local");
  });
});
