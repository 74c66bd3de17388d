import { describe, expect, it } from "vitest";
import type { Fault } from "../../../src/emulator/fault.js";
import { detachedContext, type CallContext } from "../../../src/providers/call-context.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { useRouteEmulator } from "./route-emulator.js";
import { composedMember, routeOver } from "./route-members.js";

const harness = useRouteEmulator();
const words = "one two three four five six seven eight nine ten";
const fullAnswer = `Echo: ${words}`;
const request = { model: "chat-model", messages: [{ role: "user" as const, content: words }] };
const live = (): AbortSignal => new AbortController().signal;

function faultsByModel(faults: Record<string, Fault>): void {
  harness.emulator().setFault((emulated) => faults[emulated.model]);
}

/** Reads a stream to its end or its error, keeping what the consumer received. */
async function consume(
  stream: AsyncIterable<StreamPart>,
): Promise<{ text: string; deltas: number; finish?: Extract<StreamPart, { type: "finish" }>; error?: ProviderError }> {
  let text = "";
  let deltas = 0;
  try {
    for await (const part of stream) {
      if (part.type === "finish") return { text, deltas, finish: part };
      text += part.text;
      deltas++;
    }
    return { text, deltas };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    return { text, deltas, error };
  }
}

function events(context: CallContext) {
  return context.trace.events.filter((event) => event.type !== "attempt");
}

describe("RouteProvider streams against the emulator", () => {
  it("falls back transparently when a stream fails before its first chunk", async () => {
    faultsByModel({ "gpt-broken": { status: 500 } });
    const route = routeOver([
      composedMember(harness.adapter("openai", "openai-main"), { model: "gpt-broken" }),
      composedMember(harness.adapter("openai", "openai-backup"), { model: "gpt-ok" }),
    ]);
    const context = detachedContext();
    const received = await consume(route.streamChat(request, live(), context));
    expect(received.text).toBe(fullAnswer);
    expect(received.finish?.usage.completionTokens).toBe(11);
    expect(events(context)).toEqual([
      expect.objectContaining({ type: "fallback", fromProvider: "openai-main", toProvider: "openai-backup" }),
    ]);
  });

  it("midStream error: ends a stream cut after 5 chunks with an explicit UNAVAILABLE naming them", async () => {
    faultsByModel({ "claude-drop": { dropAfterChunks: 5 } });
    const route = routeOver(
      [
        composedMember(harness.adapter("anthropic", "claude"), { model: "claude-drop", retry: { maxAttempts: 3 } }),
        composedMember(harness.adapter("anthropic", "claude-backup"), { model: "claude-ok" }),
      ],
      { midStream: "error" },
    );
    const received = await consume(route.streamChat(request, live()));
    expect(received.text).toBe("Echo: one two three four");
    expect(received.finish).toBeUndefined();
    expect(received.error).toMatchObject({ kind: "unavailable", retryable: false, provider: "claude" });
    expect(received.error?.message).toMatch(
      /^claude: stream failed after 5 chunks \(24 characters\) were delivered: claude: /,
    );
    expect(harness.recordsOf("claude-drop")).toHaveLength(1);
    expect(harness.recordsOf("claude-ok")).toHaveLength(0);
  });

  it("midStream continue: the client receives the whole answer exactly once via an Anthropic prefill", async () => {
    faultsByModel({ "claude-drop": { dropAfterChunks: 5 } });
    const route = routeOver(
      [
        composedMember(harness.adapter("anthropic", "claude"), { model: "claude-drop" }),
        composedMember(harness.adapter("anthropic", "claude-backup"), { model: "claude-ok" }),
      ],
      { midStream: "continue" },
    );
    const context = detachedContext();
    const received = await consume(route.streamChat({ ...request, maxTokens: 100 }, live(), context));
    expect(received.error).toBeUndefined();
    expect(received.text).toBe(fullAnswer);
    expect(received.deltas).toBe(11);
    expect(events(context)).toEqual([
      {
        type: "stream_continued",
        fromProvider: "claude",
        toProvider: "claude-backup",
        deliveredChars: 24,
        reason: "unavailable",
      },
    ]);
    expect(context.trace.deliveredText).toBe("Echo: one two three four");
    expect(context.trace.servedBy).toEqual({
      provider: "claude-backup",
      providerType: "anthropic",
      model: "claude-ok",
    });

    const continuation = harness.recordsOf("claude-ok")[0]?.request.body;
    expect(continuation).toMatchObject({
      max_tokens: 95,
      messages: [
        { role: "user", content: words },
        { role: "assistant", content: "Echo: one two three four" },
      ],
    });
    // Both attempts are paid for: 5 + 6 output tokens; the continuation's prompt ((10 + 3) + (5 + 3) + 3 = 24)
    // plus the broken attempt's, estimated as that prompt without the 5 delivered tokens (its real prompt was 16).
    expect(received.finish?.usage).toMatchObject({
      completionTokens: 11,
      promptTokens: 24 + 19,
      totalTokens: 24 + 19 + 11,
    });
  });

  it("midStream continue skips targets without prefill and continues on an Anthropic one", async () => {
    faultsByModel({ "gpt-drop": { dropAfterChunks: 5 } });
    const route = routeOver(
      [
        composedMember(harness.adapter("openai", "openai-main"), { model: "gpt-drop" }),
        composedMember(harness.adapter("azure", "azure-east"), { model: "gpt-ok" }),
        composedMember(harness.adapter("anthropic", "claude"), { model: "claude-ok" }),
      ],
      { midStream: "continue" },
    );
    const context = detachedContext();
    const received = await consume(route.streamChat(request, live(), context));
    expect(received.text).toBe(fullAnswer);
    expect(harness.recordsOf("gpt-ok")).toHaveLength(0);
    expect(events(context)).toEqual([
      expect.objectContaining({ type: "stream_continued", fromProvider: "openai-main", toProvider: "claude" }),
    ]);
  });

  it("midStream continue ends with the explicit error when no target can continue", async () => {
    faultsByModel({ "gpt-drop": { dropAfterChunks: 5 } });
    const route = routeOver(
      [
        composedMember(harness.adapter("openai", "openai-main"), { model: "gpt-drop" }),
        composedMember(harness.adapter("openai", "openai-backup"), { model: "gpt-ok" }),
      ],
      { midStream: "continue" },
    );
    const received = await consume(route.streamChat(request, live()));
    expect(received.text).toBe("Echo: one two three four");
    expect(received.error).toMatchObject({ kind: "unavailable", retryable: false });
    expect(received.error?.message).toMatch(
      /^openai-main: stream failed after 5 chunks \(24 characters\) were delivered: .*; no other target can continue it$/,
    );
    expect(harness.recordsOf("gpt-ok")).toHaveLength(0);
  });

  it("midStream continue carries a completion stream on by appending the delivered text to the prompt", async () => {
    faultsByModel({ "instruct-drop": { dropAfterChunks: 3 } });
    const route = routeOver(
      [
        composedMember(harness.adapter("openai", "openai-main"), { model: "instruct-drop" }),
        composedMember(harness.adapter("openai", "openai-backup"), { model: "instruct-ok" }),
      ],
      { midStream: "continue" },
    );
    const received = await consume(route.streamComplete({ model: "x", prompt: "a b c d" }, live()));
    expect(received.error).toBeUndefined();
    expect(received.text.startsWith("Echo: a b")).toBe(true);
    expect(harness.recordsOf("instruct-ok")[0]?.request.body).toMatchObject({ prompt: "a b c dEcho: a b" });
  });
});
