import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { start } from "../support/cli-process.js";
import { startScriptedServer, type ScriptedServer } from "../support/scripted-server.js";

/**
 * Issue "Hardening", secrets: providers that echo the gateway's key in their error bodies (OpenAI's masked
 * "sk-abc****wxyz", or the whole key) behind a real `llm-gateway serve`. No fragment of the key may reach the
 * caller's error, its metadata or any log line.
 */

const key = "sk-proj-Zq8vN3kLmP0aRt7YwXc2HbE5";
const fragments = [key, key.slice(0, 14), key.slice(-8), "Zq8vN3", "HbE5"];
let dir: string;
let openai: ScriptedServer;
let anthropic: ScriptedServer;
let gateway: ReturnType<typeof start>;
let url: string;

beforeAll(async () => {
  const echo = `Incorrect API key provided: ${key.slice(0, 14)}****${key.slice(-4)}; you sent Bearer ${key} (api-key: ${key})`;
  openai = await startScriptedServer({
    status: 400,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { message: echo, type: "invalid_request_error", param: null, code: null } }),
  });
  anthropic = await startScriptedServer({
    status: 400,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: echo } }),
  });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-hardening-secrets-"));
  const config = join(dir, "gateway.yaml");
  writeFileSync(
    config,
    [
      "server: { host: 127.0.0.1 }",
      "logging: { level: debug }",
      `storage: { sqlite: { path: "${join(dir, "ledger.db")}" } }`,
      "providers:",
      `  - { name: openai, type: openai, apiKey: "\${PROVIDER_KEY}", baseUrl: "${openai.url}/v1" }`,
      `  - { name: claude, type: anthropic, apiKey: "\${PROVIDER_KEY}", baseUrl: "${anthropic.url}" }`,
      "models:",
      "  - { name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }",
      "  - { name: claude, targets: [{ provider: claude, model: claude-sonnet-4-20250514 }] }",
    ].join("\n"),
  );
  gateway = start(["serve", "--config", config, "--port", "0"], {
    PROVIDER_KEY: key,
    OPENAI_LOG: "debug",
    ANTHROPIC_LOG: "debug",
  });
  url = `http://127.0.0.1:${String((await gateway.line("llm-gateway listening"))["port"])}`;
}, 30_000);

afterAll(async () => {
  gateway.child.kill("SIGTERM");
  await gateway.exit;
  await openai.close();
  await anthropic.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(["gpt-4o", "claude"])("a provider echoing the key in its error (%s)", (model) => {
  it("leaves no fragment of the key in the caller's error or in any log line", async () => {
    const client = createClient(LLMService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
    let failure: ConnectError | undefined;
    try {
      await client.chat({ model, messages: [{ role: Role.USER, content: "hi" }] });
    } catch (error) {
      failure = ConnectError.from(error);
    }
    expect(failure).toBeDefined();
    const seen = [
      failure?.rawMessage ?? "",
      JSON.stringify(failure?.details ?? []),
      JSON.stringify([...(failure?.metadata ?? new Headers())]),
    ].join("\n");
    expect(seen).toContain("redacted");
    // The request log line is written when the call ends; give it a moment to be flushed.
    await gateway.line("request");
    const output = `${seen}\n${gateway.stdout()}\n${gateway.stderr()}`;
    for (const fragment of fragments) expect(output, fragment).not.toContain(fragment);
  });
});
