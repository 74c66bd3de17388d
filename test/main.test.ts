import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { start } from "./support/cli-process.js";

describe("the llm-gateway command", () => {
  it("serves the emulator and the gateway, logs where each listens, and stops cleanly on SIGTERM and SIGINT", async () => {
    const emulator = start(["emulator", "--port", "0"]);
    const { port: emulatorPort } = await emulator.line("emulator listening");
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-cli-"));
    const config = join(dir, "gateway.yaml");
    writeFileSync(
      config,
      [
        "server: { host: 127.0.0.1 }",
        `storage: { sqlite: { path: "${join(dir, "gateway.db")}" } }`,
        "providers:",
        `  - { name: claude, type: anthropic, apiKey: "\${ANTHROPIC_API_KEY}", baseUrl: "http://127.0.0.1:${String(emulatorPort)}" }`,
        "models:",
        "  - { name: claude-sonnet, targets: [{ provider: claude, model: claude-sonnet-4-20250514 }] }",
        "  - { name: claude-old, targets: [{ provider: claude, model: claude-sonnet-4-5 }] }",
      ].join("\n"),
    );
    const gateway = start(["serve", "--config", config, "--port", "0"], { ANTHROPIC_API_KEY: "sk-ant-cli-test" });
    const listening = await gateway.line("llm-gateway listening");
    const response = await fetch(`http://127.0.0.1:${String(listening["port"])}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet", messages: [{ role: "ROLE_USER", content: "cli works" }] }),
    });
    expect(((await response.json()) as { message: { content: string } }).message.content).toBe("Echo: cli works");
    // The Anthropic SDK prints a notice on every call to a model it lists as deprecated: it becomes one JSON
    // log line, not raw text on stderr per request.
    for (let i = 0; i < 2; i++) {
      const old = await fetch(`http://127.0.0.1:${String(listening["port"])}/llm.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-old", messages: [{ role: "ROLE_USER", content: "old model" }] }),
      });
      expect(old.status).toBe(200);
    }
    const notices = gateway
      .stdout()
      .split("\n")
      .filter((l) => l.includes("a library printed a warning"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ level: 40, text: expect.stringContaining("'claude-sonnet-4-5' is deprecated") });
    // The fetch above left an idle keep-alive connection: the drain closes it at once instead of waiting out
    // the 10 s shutdown grace.
    const stopping = performance.now();
    gateway.child.kill("SIGTERM");
    emulator.child.kill("SIGINT");
    expect(await gateway.exit).toBe(0);
    expect(performance.now() - stopping).toBeLessThan(2_000);
    expect(await emulator.exit).toBe(0);
    expect(gateway.stderr()).not.toContain("sk-ant-cli-test");
    expect(gateway.stderr()).toBe("");
  });

  it("refuses a bad config with the path of the bad field and exit code 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-cli-"));
    const config = join(dir, "bad.yaml");
    writeFileSync(config, 'providers:\n  - { name: x, type: openai, apiKey: "${MISSING_KEY}" }\nmodels: []\n');
    const run = start(["serve", "--config", config]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toContain("providers[0].apiKey: environment variable MISSING_KEY is not set");
  });

  it("exits 1 with the reason when start-up fails half-way, even with a metrics endpoint already serving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-cli-"));
    writeFileSync(join(dir, "file"), "not a directory");
    const config = join(dir, "gateway.yaml");
    writeFileSync(
      config,
      [
        "server: { host: 127.0.0.1 }",
        "telemetry: { prometheus: { enabled: true, host: 127.0.0.1, port: 0 } }",
        `storage: { sqlite: { path: "${join(dir, "file", "sub", "gateway.db")}" } }`,
        'providers: [{ name: openai, type: openai, apiKey: "${OPENAI_API_KEY}", baseUrl: "http://127.0.0.1:9/v1" }]',
        "models: [{ name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }]",
      ].join("\n"),
    );
    const started = performance.now();
    const run = start(["serve", "--config", config, "--port", "0"], { OPENAI_API_KEY: "sk-x" });
    expect(await run.exit).toBe(1);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(run.stderr()).toContain("ENOTDIR");
  });

  it("exits 1 when its port is taken, having closed the metrics endpoint and health checks it had started", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const dir = mkdtempSync(join(tmpdir(), "llm-gateway-cli-"));
    const config = join(dir, "gateway.yaml");
    writeFileSync(
      config,
      [
        "server: { host: 127.0.0.1 }",
        "telemetry: { prometheus: { enabled: true, host: 127.0.0.1, port: 0 } }",
        `storage: { sqlite: { path: "${join(dir, "gateway.db")}" } }`,
        "providers:",
        '  - { name: openai, type: openai, apiKey: "${OPENAI_API_KEY}", baseUrl: "http://127.0.0.1:9/v1",',
        "      healthCheck: { model: gpt-4o, intervalMs: 1000 } }",
        "models: [{ name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }]",
      ].join("\n"),
    );
    try {
      const started = performance.now();
      const run = start(["serve", "--config", config, "--port", String(port)], { OPENAI_API_KEY: "sk-x" });
      // Exiting at all is the proof that nothing it opened (the metrics listener, the health-check timer) is
      // left holding the process open.
      expect(await run.exit).toBe(1);
      // Start-up takes 1-2 s (6 s on a machine busy with other test runs); under the 10 s shutdown grace it
      // would wait out if anything it opened held the drain.
      expect(performance.now() - started).toBeLessThan(9_000);
      expect(run.stderr()).toContain("EADDRINUSE");
      expect(run.stderr()).toContain(`127.0.0.1:${String(port)}`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
