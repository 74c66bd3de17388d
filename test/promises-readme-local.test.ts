import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../src/emulator/emulator.js";
import { start } from "./support/cli-process.js";
import { freePort } from "./support/free-port.js";

/**
 * The README followed word by word: its local configuration, run by the built CLI against the emulator, and
 * its shell commands (curl unary and Connect-enveloped streaming, the metrics endpoint, `buf curl`), run by
 * bash as written, with only the ports changed to free ones.
 */

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const blocks = (language: string): string[] =>
  [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1] ?? "");
const only = (found: string[], what: string): string => {
  if (found.length !== 1) throw new Error(`expected one README block ${what}, found ${String(found.length)}`);
  return found[0] ?? "";
};
const localConfig = only(
  blocks("yaml").filter((b) => b.startsWith("# gateway.local.yaml")),
  "starting # gateway.local.yaml",
);
const localCommands = only(
  blocks("sh").filter((b) => b.includes("--config gateway.local.yaml")),
  "running gateway.local.yaml",
);
const streamCommand = only(
  blocks("sh").filter((b) => b.includes("application/connect+json")),
  "streaming with curl",
);
const bufCurl = only(
  blocks("sh").filter((b) => b.startsWith("npx buf curl")),
  "with buf curl",
);

/** Runs a README shell block with bash from the repository root; resolves with its stdout. */
async function bash(script: string): Promise<string> {
  const child = spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: root });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`exit ${String(code)}: ${err}\n${script}`);
  return out;
}

describe("README: running it locally against the emulator, word by word", () => {
  let emulator: Emulator;
  let dir: string;
  let gateway: ReturnType<typeof start>;
  let ports: { gateway: number; metrics: number };
  const withPorts = (text: string): string =>
    text
      .replaceAll("localhost:50051", `127.0.0.1:${String(ports.gateway)}`)
      .replaceAll("localhost:9464", `127.0.0.1:${String(ports.metrics)}`);

  beforeAll(async () => {
    emulator = await startEmulator();
    ports = { gateway: await freePort(), metrics: await freePort() };
    dir = mkdtempSync(join(tmpdir(), "llm-gateway-readme-local-"));
    const config = localConfig
      .replaceAll("127.0.0.1:8081", `127.0.0.1:${String(emulator.port)}`)
      .replace("port: 50051", `port: ${String(ports.gateway)}`)
      .replace("port: 9464", `port: ${String(ports.metrics)}`);
    writeFileSync(join(dir, "gateway.local.yaml"), config);
    // No provider key in the environment: the configuration's ${VAR:-default} keys are what the emulator gets.
    gateway = start(["serve", "--config", join(dir, "gateway.local.yaml")]);
    await gateway.line("llm-gateway listening");
  });
  afterAll(async () => {
    gateway.child.kill("SIGTERM");
    await gateway.exit;
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves every model of the local configuration through its provider, Azure first for gpt-4o", async () => {
    const served: Record<string, string> = {};
    for (const model of ["gpt-4o", "claude-sonnet"]) {
      const response = await fetch(`http://127.0.0.1:${String(ports.gateway)}/llm.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "ROLE_USER", content: "hi" }] }),
      });
      const body = (await response.json()) as { metadata: { provider: string } };
      served[model] = body.metadata.provider;
    }
    const embed = await fetch(`http://127.0.0.1:${String(ports.gateway)}/llm.v1.LLMService/Embed`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "text-embedding-3-small", inputs: ["hi"] }),
    });
    served["text-embedding-3-small"] = ((await embed.json()) as { metadata: { provider: string } }).metadata.provider;
    expect(served).toEqual({ "gpt-4o": "azure", "claude-sonnet": "claude", "text-embedding-3-small": "openai" });
    expect(new Set(emulator.records.map((r) => r.request.api))).toEqual(new Set(["azure", "anthropic", "openai"]));
  });

  it("answers the README's curl and shows the request on the Prometheus endpoint", async () => {
    const commands = localCommands
      .split(/\n(?=\S)/)
      .filter((command) => !command.startsWith("npx llm-gateway"))
      .join("\n");
    const out = await bash(withPorts(commands));
    expect(out).toContain('"content":"Echo: Say hello"');
    expect(out).toMatch(/^llm_gateway_requests_total\{[^}]*\} \d+$/m);
  });

  it("streams with the README's curl over Connect's enveloped framing, one JSON message per line", async () => {
    const lines = (await bash(withPorts(streamCommand))).trim().split("\n");
    expect(lines.slice(0, 3)).toEqual(['{"delta":"Echo:"}', '{"delta":" Say"}', '{"delta":" hello"}']);
    expect(JSON.parse(lines[3] ?? "")).toMatchObject({
      finishReason: "FINISH_REASON_STOP",
      usage: { promptTokens: 8, completionTokens: 3, totalTokens: 11 },
      metadata: { provider: "claude" },
    });
    expect(lines.slice(4)).toEqual(["{}"]);
  });

  it("streams with the README's buf curl", async () => {
    const out = await bash(withPorts(bufCurl));
    const messages = out
      .trim()
      .split(/\n(?=\{)/)
      .map((text) => JSON.parse(text) as { delta?: string; finishReason?: string });
    expect(messages.map((m) => m.delta ?? "").join("")).toBe("Echo: Say hello");
    expect(messages.at(-1)?.finishReason).toBe("FINISH_REASON_STOP");
  });
});
