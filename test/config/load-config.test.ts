import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfigText } from "../../src/config/load-config.js";

const issueExample = `
server:
  port: 50051
providers:
  - name: openai
    type: openai            # openai | azure | anthropic | openai-compatible
    apiKey: \${OPENAI_API_KEY}
    baseUrl: http://127.0.0.1:8081/v1      # optional; the SDK default otherwise
    organization: org-123                  # optional
    rateLimit: { requestsPerMinute: 3500, tokensPerMinute: 90000 }   # enforced in the pipeline issue
  - name: azure-east
    type: azure
    apiKey: \${AZURE_OPENAI_API_KEY}
    baseUrl: http://127.0.0.1:8081         # the resource endpoint
    apiVersion: "2024-10-21"
  - name: claude
    type: anthropic
    apiKey: \${ANTHROPIC_API_KEY}
    baseUrl: http://127.0.0.1:8081
models:                     # the names clients ask for, each an ordered list of targets
  - name: gpt-4o
    targets:
      - { provider: azure-east, model: gpt-4o }     # for Azure, model is the deployment name
      - { provider: openai, model: gpt-4o }
  - name: claude-sonnet
    targets:
      - { provider: claude, model: claude-sonnet-4-20250514 }
`;

const env = {
  OPENAI_API_KEY: "sk-openai-secret",
  AZURE_OPENAI_API_KEY: "azure-secret",
  ANTHROPIC_API_KEY: "sk-ant-secret",
};

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("accepts the documented example as written and resolves keys from the environment", () => {
    const config = parseConfigText(issueExample, { env });
    expect(config.server.port).toBe(50051);
    expect(config.providers.map((p) => [p.name, p.type])).toEqual([
      ["openai", "openai"],
      ["azure-east", "azure"],
      ["claude", "anthropic"],
    ]);
    expect(config.providers[0]?.apiKey.reveal()).toBe("sk-openai-secret");
    expect(config.providers[0]?.rateLimit).toEqual({ requestsPerMinute: 3500, tokensPerMinute: 90000 });
    expect(config.providers[1]?.apiVersion).toBe("2024-10-21");
    expect(config.providers[2]?.defaultMaxTokens).toBe(4096);
    expect(config.models[0]?.targets).toEqual([
      { provider: "azure-east", model: "gpt-4o", weight: 1 },
      { provider: "openai", model: "gpt-4o", weight: 1 },
    ]);
    expect(config.models[0]?.routing).toEqual({
      strategy: "ordered",
      fallbackOn: ["retryable", "exhausted", "circuit_open", "context_length", "content_filter"],
      midStream: "error",
    });
  });

  it("never prints a key: the config serializes and inspects with keys redacted", () => {
    const config = parseConfigText(issueExample, { env });
    expect(JSON.stringify(config)).not.toContain("sk-openai-secret");
    expect(inspect(config, { depth: 10 })).not.toContain("sk-openai-secret");
    expect(JSON.stringify(config)).toContain("[REDACTED]");
  });

  it("names the missing environment variable and the field that needs it", () => {
    const problems = problemsOf(() =>
      parseConfigText(issueExample, { env: { ...env, AZURE_OPENAI_API_KEY: undefined } }),
    );
    expect(problems).toEqual(["providers[1].apiKey: environment variable AZURE_OPENAI_API_KEY is not set"]);
  });

  it("rejects a key written literally in the file, without echoing it", () => {
    const text = issueExample.replace("${OPENAI_API_KEY}", "sk-literal-key-123");
    // Said once: the schema's own "must be a reference" for the same field is not printed a second time.
    const problems = problemsOf(() => parseConfigText(text, { env }));
    expect(problems).toEqual([
      "providers[0].apiKey: write a reference (${ENV_VAR} or file:PATH), never the key itself",
    ]);
    expect(problems.join("\n")).not.toContain("sk-literal-key-123");
  });

  it("reads a key from a file: reference relative to the config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-config-"));
    writeFileSync(join(dir, "openai.key"), "sk-from-file\n");
    writeFileSync(join(dir, "gateway.yaml"), issueExample.replace("${OPENAI_API_KEY}", "file:openai.key"));
    const config = loadConfigFile(join(dir, "gateway.yaml"), env);
    expect(config.providers[0]?.apiKey.reveal()).toBe("sk-from-file");
  });

  it("names each bad field by its path", () => {
    const text = issueExample.replace("port: 50051", "port: 99999").replace("type: anthropic", "type: cohere");
    const problems = problemsOf(() => parseConfigText(text, { env }));
    expect(problems.some((p) => p.startsWith("server.port:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("providers[2].type:"))).toBe(true);
  });

  it("names a target that refers to an unknown provider", () => {
    const text = issueExample.replace("{ provider: openai, model: gpt-4o }", "{ provider: nope, model: gpt-4o }");
    expect(problemsOf(() => parseConfigText(text, { env }))).toEqual([
      "models[0].targets[1].provider: unknown provider nope",
    ]);
  });

  it("rejects unknown keys, so that a typo is not silently ignored", () => {
    const problems = problemsOf(() =>
      parseConfigText(issueExample.replace("organization: org-123", "organisation: org-123"), { env }),
    );
    expect(problems.some((p) => p.startsWith("providers[0]") && p.includes("organisation"))).toBe(true);
  });

  it("requires baseUrl for azure providers", () => {
    const text = issueExample.replace("    baseUrl: http://127.0.0.1:8081         # the resource endpoint\n", "");
    expect(problemsOf(() => parseConfigText(text, { env }))).toContain(
      "providers[1].baseUrl: azure providers need baseUrl (the resource endpoint)",
    );
  });

  it("reports a file that cannot be read", () => {
    expect(problemsOf(() => loadConfigFile("/nonexistent/gateway.yaml", env))[0]).toMatch(
      /^\/nonexistent\/gateway.yaml: cannot read/,
    );
  });
});
