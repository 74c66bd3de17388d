import { createServer } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderConfigInput } from "../../../src/config/config-schema.js";
import { Secret } from "../../../src/config/secret.js";
import { type Emulator, startEmulator } from "../../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest, Provider } from "../../../src/providers/provider.js";
import { anthropicEmulatorConfig } from "./anthropic-emulator-config.js";
import { anthropicTestConfig, testApiKey } from "./anthropic-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";

const signal = new AbortController().signal;
const request: ChatRequest = {
  model: "claude-test",
  messages: [{ role: "user", content: "one two three four five six seven eight" }],
};

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ apiKey: testApiKey });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

function provider(overrides: Partial<ProviderConfigInput> = {}): Provider {
  return createAnthropicProvider(anthropicEmulatorConfig(emulator.url, overrides));
}

function faulty(fault: string, overrides: Partial<ProviderConfigInput> = {}): Provider {
  return provider({ ...overrides, headers: { "x-emulator-fault": fault } });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

describe("AnthropicProvider error mapping against the emulator", () => {
  it("maps 429 to rate_limited with retryAfterMs, status, request id and the provider's message", async () => {
    const error = await providerErrorOf(faulty("status=429;retry-after=7").chat(request, signal));
    expect(error).toMatchObject({
      kind: "rate_limited",
      status: 429,
      retryAfterMs: 7000,
      retryable: true,
      provider: "anthropic-test",
    });
    expect(error.providerRequestId).toMatch(/^req_/);
    expect(error.message).toMatch(/^anthropic-test: \S/);
    expect(emulator.records).toHaveLength(1);
  });

  it("maps 529 to overloaded, with the retry-after hint", async () => {
    const error = await providerErrorOf(faulty("status=529;retry-after=2").chat(request, signal));
    expect(error).toMatchObject({ kind: "overloaded", status: 529, retryable: true, retryAfterMs: 2000 });
    expect(error.providerRequestId).toMatch(/^req_/);
  });

  it("maps a wrong key to auth, without the key in the message", async () => {
    const wrongKey = "sk-ant-test-wrong-key-0000";
    const error = await providerErrorOf(provider({ apiKey: new Secret(wrongKey) }).chat(request, signal));
    expect(error).toMatchObject({ kind: "auth", status: 401, retryable: false, retryAfterMs: undefined });
    expect(error.message).not.toContain(wrongKey);
    expect(error.message).not.toContain(testApiKey);
    expect(error.message).toMatch(/^anthropic-test: \S/);
  });

  it("maps a prompt longer than the context window to context_length", async () => {
    const small = await startEmulator({ apiKey: testApiKey, contextWindow: 10 });
    try {
      const error = await providerErrorOf(
        createAnthropicProvider(anthropicEmulatorConfig(small.url)).chat(request, signal),
      );
      expect(error).toMatchObject({ kind: "context_length", status: 400, retryable: false });
      expect(error.message).toContain("prompt is too long");
    } finally {
      await small.close();
    }
  });

  it("maps 404 to not_found", async () => {
    const error = await providerErrorOf(faulty("status=404").chat(request, signal));
    expect(error).toMatchObject({ kind: "not_found", status: 404 });
  });

  it("maps 500 to unavailable", async () => {
    const error = await providerErrorOf(faulty("status=500").chat(request, signal));
    expect(error).toMatchObject({ kind: "unavailable", status: 500, retryable: true });
  });

  it("maps an error status on a stream request like a unary one", async () => {
    const error = await providerErrorOf(faulty("status=529").streamChat(request, signal));
    expect(error).toMatchObject({ kind: "overloaded", status: 529 });
  });

  it("maps a refused connection to unavailable", async () => {
    const port = await closedPort();
    const refused = createAnthropicProvider(anthropicTestConfig(`http://127.0.0.1:${port}`));
    const error = await providerErrorOf(refused.chat(request, signal));
    expect(error).toMatchObject({ kind: "unavailable", status: undefined, retryable: true });
    expect(error.message).toContain("ECONNREFUSED");
  });

  it("maps a connection dropped mid-stream to unavailable", async () => {
    const error = await providerErrorOf(faulty("drop-after=2").streamChat(request, signal));
    expect(error).toMatchObject({ kind: "unavailable", status: undefined });
  });

  it("maps an in-stream error event to overloaded, not to a clean end", async () => {
    const error = await providerErrorOf(faulty("error-after=2").streamChat(request, signal));
    expect(error).toMatchObject({ kind: "overloaded", status: undefined, retryable: true });
    expect(error.providerRequestId).toMatch(/^req_/);
  });

  it("maps a stream that ends without message_stop to unavailable", async () => {
    const error = await providerErrorOf(faulty("truncate-after=2").streamChat(request, signal));
    expect(error).toMatchObject({ kind: "unavailable" });
    expect(error.message).toContain("stream ended before it completed");
  });

  it("maps the configured timeout passing before the answer to timeout", async () => {
    const error = await providerErrorOf(faulty("latency=5000", { timeoutMs: 100 }).chat(request, signal));
    expect(error).toMatchObject({ kind: "timeout", retryable: true });
    expect(emulator.records).toHaveLength(1);
  });
});
