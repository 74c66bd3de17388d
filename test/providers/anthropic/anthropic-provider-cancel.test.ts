import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type Emulator, type EmulatorRecord, startEmulator } from "../../../src/emulator/emulator.js";
import { createAnthropicProvider } from "../../../src/providers/anthropic/create-anthropic-provider.js";
import type { ChatRequest, Provider, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { anthropicEmulatorConfig } from "./anthropic-emulator-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";

const words = Array.from({ length: 40 }, (_, index) => `word${index}`).join(" ");
// The answer is "Echo: " and the 40 words: 41 content chunks.
const longRequest: ChatRequest = { model: "claude-test", messages: [{ role: "user", content: words }], maxTokens: 100 };

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

function faulty(fault: string): Provider {
  return createAnthropicProvider(anthropicEmulatorConfig(emulator.url, { headers: { "x-emulator-fault": fault } }));
}

async function receivedRecord(): Promise<EmulatorRecord> {
  await vi.waitFor(() => expect(emulator.records).toHaveLength(1));
  const record = emulator.records[0];
  if (record === undefined) throw new Error("the emulator received no request");
  return record;
}

describe("AnthropicProvider cancellation against the emulator", () => {
  it("aborts a stream mid-way: cancelled at once, and the upstream request is aborted", async () => {
    const controller = new AbortController();
    const seen: StreamPart[] = [];
    let failure: unknown;
    try {
      for await (const part of faulty("chunk-delay=20").streamChat(longRequest, controller.signal)) {
        seen.push(part);
        if (seen.length === 2) controller.abort();
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ProviderError);
    expect(failure).toMatchObject({ kind: "cancelled", retryable: false });
    expect(seen).toHaveLength(2);
    const record = await receivedRecord();
    await record.done;
    expect(record.aborted).toBe(true);
    expect(record.chunksSent).toBeLessThan(41);
  });

  it("aborts a unary call while the provider hangs", async () => {
    const controller = new AbortController();
    const call = providerErrorOf(faulty("hang").chat(longRequest, controller.signal));
    const record = await receivedRecord();
    controller.abort();
    const error = await call;
    expect(error).toMatchObject({ kind: "cancelled", provider: "anthropic-test" });
    await record.done;
    expect(record.aborted).toBe(true);
  });

  it("aborts a stream request while the provider hangs before the headers", async () => {
    const controller = new AbortController();
    const call = providerErrorOf(faulty("hang").streamChat(longRequest, controller.signal));
    const record = await receivedRecord();
    controller.abort();
    expect(await call).toMatchObject({ kind: "cancelled" });
    await record.done;
    expect(record.aborted).toBe(true);
  });

  it("sends nothing when the signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await providerErrorOf(faulty("hang").chat(longRequest, controller.signal));
    expect(error.kind).toBe("cancelled");
    expect(emulator.records).toHaveLength(0);
  });

  it("aborts the upstream request when the consumer stops reading", async () => {
    const parts = faulty("chunk-delay=20").streamChat(longRequest, new AbortController().signal);
    for await (const part of parts) {
      expect(part.type).toBe("delta");
      break;
    }
    const record = await receivedRecord();
    await record.done;
    expect(record.aborted).toBe(true);
    expect(record.chunksSent).toBeLessThan(41);
  });
});
