import { spawn } from "node:child_process";
import http2 from "node:http2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { LLMService, Role } from "../gen/llm/v1/llm_service_pb.js";
import { startEmulator, type Emulator } from "../src/emulator/emulator.js";
import { start } from "./support/cli-process.js";

/**
 * README, "Running it": each command "logs (JSON lines) where it listens and stops cleanly on SIGTERM or SIGINT:
 * the health service turns NOT_SERVING, HTTP/2 clients get GOAWAY, in-flight calls get `server.shutdownGraceMs`
 * to finish"; "Set up": what `npm run demo` (`llm-gateway demo`) shows. These run the built CLI
 * (bin/llm-gateway.js; `npm test` builds it first).
 */

const providerKey = "sk-cli-promises-provider-key";
let emulator: Emulator;
let dir: string;
beforeAll(async () => {
  // 12 chunks 60 ms apart: a stream of about 0.7 s.
  emulator = await startEmulator({ apiKey: providerKey, chunkDelayMs: 60 });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-promises-cli-"));
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, shutdownGraceMs: number): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    [
      `server: { host: 127.0.0.1, shutdownGraceMs: ${shutdownGraceMs} }`,
      `storage: { sqlite: { path: "${join(dir, `${name}.db`)}" } }`,
      "providers:",
      `  - { name: openai, type: openai, apiKey: "\${OPENAI_API_KEY}", baseUrl: "${emulator.url}/v1" }`,
      "models:",
      "  - { name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }",
    ].join("\n"),
  );
  return path;
}

/** Rejects when `promise` has not settled within `ms`, naming what was awaited. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const words = "one two three four five six seven eight nine ten";

describe("llm-gateway serve on SIGTERM", () => {
  it("turns health NOT_SERVING, sends GOAWAY, lets the in-flight stream finish, then exits 0 without waiting out the grace", async () => {
    const gateway = start(["serve", "--config", writeConfig("drain.yaml", 8_000), "--port", "0"], {
      OPENAI_API_KEY: providerKey,
    });
    try {
      const url = `http://127.0.0.1:${String((await gateway.line("llm-gateway listening"))["port"])}`;
      // An idle HTTP/2 connection, to see its GOAWAY.
      const idle = http2.connect(url);
      idle.on("error", () => undefined);
      await within(2_000, "HTTP/2 connection", new Promise((resolve) => idle.once("connect", resolve)));
      const goaway = new Promise<number>((resolve) => idle.once("goaway", (code: number) => resolve(code)));
      // A health watcher (ended once it has seen NOT_SERVING: an open Watch is an in-flight call too).
      const stopWatching = new AbortController();
      const watched: Status[] = [];
      const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
      const watching = (async () => {
        try {
          for await (const update of health.watch({ service: "" }, { signal: stopWatching.signal })) {
            watched.push(update.status);
            if (update.status === Status.NOT_SERVING) stopWatching.abort();
          }
        } catch {
          // Cancelled above.
        }
      })();
      // The in-flight call: a stream of about 0.7 s.
      const llm = createClient(LLMService, createGrpcTransport({ baseUrl: url }));
      let text = "";
      let finished = false;
      let streamEndedAt = 0;
      let firstChunk: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (firstChunk = resolve));
      const streaming = (async () => {
        for await (const chunk of llm.streamChat({
          model: "gpt-4o",
          messages: [{ role: Role.USER, content: words }],
        })) {
          text += chunk.delta;
          if (chunk.usage) finished = true;
          firstChunk();
        }
        streamEndedAt = performance.now();
      })();
      await within(5_000, "first chunk", started);

      const signalledAt = performance.now();
      gateway.child.kill("SIGTERM");
      expect(await within(2_000, "GOAWAY", goaway)).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await within(2_000, "NOT_SERVING", watching);
      expect(watched).toEqual([Status.SERVING, Status.NOT_SERVING]);
      await within(5_000, "end of the in-flight stream", streaming);
      expect(text).toBe(`Echo: ${words}`);
      expect(finished).toBe(true);
      expect(await within(5_000, "exit", gateway.exit)).toBe(0);
      const exitedAt = performance.now();
      // It waited for the stream, not for the 8 s grace.
      expect(exitedAt).toBeGreaterThanOrEqual(streamEndedAt);
      expect(exitedAt - signalledAt).toBeLessThan(4_000);
      expect(await gateway.line("stopping")).toMatchObject({ signal: "SIGTERM" });
      await gateway.line("stopped");
      idle.destroy();
    } finally {
      gateway.child.kill("SIGKILL");
    }
  });

  it("cuts a call that outlives shutdownGraceMs with an error, and exits 0 about then", async () => {
    const gateway = start(["serve", "--config", writeConfig("grace.yaml", 300), "--port", "0"], {
      OPENAI_API_KEY: providerKey,
    });
    try {
      const url = `http://127.0.0.1:${String((await gateway.line("llm-gateway listening"))["port"])}`;
      const llm = createClient(LLMService, createGrpcTransport({ baseUrl: url }));
      let received = 0;
      let firstChunk: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (firstChunk = resolve));
      // 32 chunks 60 ms apart: about 2 s, far past the 300 ms grace.
      const outcome = (async () => {
        try {
          for await (const chunk of llm.streamChat({
            model: "gpt-4o",
            messages: [{ role: Role.USER, content: `${words} ${words} ${words}` }],
          })) {
            if (chunk.usage) return "clean end";
            received++;
            firstChunk();
          }
          return "ended without its final message";
        } catch {
          return "error";
        }
      })();
      await within(5_000, "first chunk", started);
      const signalledAt = performance.now();
      gateway.child.kill("SIGTERM");
      expect(await within(5_000, "exit", gateway.exit)).toBe(0);
      expect(performance.now() - signalledAt).toBeLessThan(2_000);
      expect(await outcome).toBe("error");
      expect(received).toBeLessThan(32);
    } finally {
      gateway.child.kill("SIGKILL");
    }
  });
});

describe("SIGINT", () => {
  it("stops the gateway and the emulator command cleanly too (exit 0), signalled as soon as each says where it listens", async () => {
    const gateway = start(["serve", "--config", writeConfig("sigint.yaml", 5_000), "--port", "0"], {
      OPENAI_API_KEY: providerKey,
    });
    const own = start(["emulator", "--port", "0"]);
    try {
      // Both install their signal handlers before they log where they listen (src/cli/command-line.ts): a signal sent the
      // moment that line appears finds them, never the default action (the process killed, no drain).
      await gateway.line("llm-gateway listening");
      gateway.child.kill("SIGINT");
      await own.line("emulator listening");
      own.child.kill("SIGTERM");
      expect(await within(5_000, "gateway exit", gateway.exit)).toBe(0);
      expect(await within(5_000, "emulator exit", own.exit)).toBe(0);
      expect(await gateway.line("stopping")).toMatchObject({ signal: "SIGINT" });
      expect(await own.line("stopping")).toMatchObject({ signal: "SIGTERM" });
    } finally {
      gateway.child.kill("SIGKILL");
      own.child.kill("SIGKILL");
    }
  });
});

describe("started by npm (npx llm-gateway …)", () => {
  it("stops cleanly when the npm process that started it ends: npm's sh -c passes no SIGTERM on", async () => {
    // npm runs a bin as `sh -c 'llm-gateway …'`; killing npm (or that shell) orphans the gateway. Here the shell
    // is the wrapper (a command after the gateway keeps sh from exec'ing it), with npm's npm_command set.
    const bin = fileURLToPath(new URL("../bin/llm-gateway.js", import.meta.url));
    const wrapper = spawn("sh", ["-c", `"${process.execPath}" "${bin}" emulator --port 0; true`], {
      env: { PATH: process.env["PATH"] ?? "", npm_command: "exec" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const ended = new Promise<void>((resolve) => wrapper.stdout.on("end", resolve));
    const listening = new Promise<void>((resolve) =>
      wrapper.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('"msg":"emulator listening"')) resolve();
      }),
    );
    try {
      await within(10_000, "emulator listening", listening);
      wrapper.kill("SIGTERM");
      // The pipe ends when its last writer, the gateway's own process, has exited.
      await within(5_000, "the orphaned emulator's exit", ended);
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l["msg"] === "stopping")).toMatchObject({
        signal: "SIGTERM",
        reason: "the npm process that started it has ended",
      });
      expect(lines.some((l) => l["msg"] === "stopped")).toBe(true);
    } finally {
      wrapper.kill("SIGKILL");
    }
  });
});

describe("llm-gateway demo", () => {
  it("lists the models, chats, streams from Anthropic, OpenAI and an OpenAI-compatible server as the chunks arrive, and embeds two texts, with usage and cost for each", async () => {
    const demo = start(["demo"]);
    const writes: string[] = [];
    demo.child.stdout.on("data", (chunk: Buffer) => writes.push(chunk.toString()));
    expect(await within(15_000, "demo exit", demo.exit)).toBe(0);
    const out = writes.join("");

    expect(out).toMatch(
      /^Models: .*gpt-4o → azure-east\/gpt-4o, openai\/gpt-4o.*claude-sonnet → claude\/claude-sonnet-4-20250514.*llama → local-vllm\//m,
    );
    expect(out).toContain("Chat (unary) with gpt-4o:\n  answer: Echo: What does a gateway add to an LLM call?\n");
    const sentence = "Echo: Stream this sentence back one token at a time, please.";
    for (const model of ["claude-sonnet", "gpt-4o-mini", "llama"])
      expect(out).toContain(`Chat (streaming) with ${model}:\n  answer: ${sentence}\n`);
    expect(out).toMatch(
      /Embedding with text-embedding-3-small:\n {2}\[0\]( -?\d\.\d{3}){8}\n {2}\[1\]( -?\d\.\d{3}){8}\n/,
    );
    // A usage line (tokens and cost) after each of the five calls, served by one provider of each type.
    const usage =
      out.match(
        / {2}usage: \d+ prompt \+ \d+ completion = \d+ tokens, cost (\$\d+\.\d{6} \(\d+ micro-USD\)|unknown \(model has no price\))\n {2}served by \S+ \((\S+)\)/g,
      ) ?? [];
    expect(usage).toHaveLength(5);
    expect(new Set(usage.map((line) => /\((azure|anthropic|openai|openai-compatible)\)$/.exec(line)?.[1]))).toEqual(
      new Set(["azure", "anthropic", "openai", "openai-compatible"]),
    );

    // "Printed as the chunks arrive": the Anthropic answer reached stdout in many writes, not in one piece.
    const startOfStream = writes.findIndex((w) => w.includes("Chat (streaming) with claude-sonnet"));
    const endOfStream = writes.findIndex((w, i) => i > startOfStream && w.includes("usage:"));
    expect(endOfStream - startOfStream).toBeGreaterThanOrEqual(5);
  });
});
