import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/secret.js";
import { startEmulator } from "../../../src/emulator/emulator.js";
import type { ProviderErrorKind } from "../../../src/providers/provider-error.js";
import { closedPortUrl } from "./closed-port-url.js";
import { streamedText } from "../../support/collect-stream.js";
import { echoChat } from "./echo-chat.js";
import { useEmulatorHarness } from "./emulator-harness.js";
import type { OpenAIFamilyMember } from "./openai-family-member.js";
import { openAITestConfig, testApiKey } from "./openai-test-config.js";
import { providerErrorOf } from "../../support/provider-error-of.js";
import { streamUntilError } from "./stream-until-error.js";

const live = (): AbortSignal => new AbortController().signal;

/**
 * Every error class of one OpenAI-family adapter, as the emulator produces them through the real SDK
 * and real HTTP: each must leave the adapter as the right ProviderError kind.
 */
export function describeOpenAIFamilyErrors(member: OpenAIFamilyMember): void {
  describe(`${member.type} adapter errors from the emulator`, () => {
    const harness = useEmulatorHarness(member);
    const { request } = echoChat;
    const name = `${member.type}-test`;

    it("maps 429 with retry-after to rate_limited with retryAfterMs", async () => {
      harness.emulator().setFault({ status: 429, retryAfterSeconds: 2 });
      const error = await providerErrorOf(harness.provider().chat(request, live()));
      expect(error).toMatchObject({ kind: "rate_limited", status: 429, retryAfterMs: 2000, retryable: true });
      expect(error.provider).toBe(name);
      expect(error.providerRequestId).toMatch(member.providerRequestId);
      expect(error.message.startsWith(`${name}: `)).toBe(true);
    });

    it("maps 429 with retry-after-ms on a stream to rate_limited", async () => {
      harness.emulator().setFault({ status: 429, retryAfterMs: 1500 });
      const error = await providerErrorOf(harness.provider().streamChat(request, live()));
      expect(error).toMatchObject({ kind: "rate_limited", status: 429, retryAfterMs: 1500 });
    });

    it("reads a fault from the x-emulator-fault header", async () => {
      const provider = harness.provider({ headers: { "x-emulator-fault": "status=429;retry-after=3" } });
      const error = await providerErrorOf(provider.chat(request, live()));
      expect(error).toMatchObject({ kind: "rate_limited", retryAfterMs: 3000 });
    });

    it("maps the emulator's own rate limiter to rate_limited", async () => {
      const limited = await startEmulator({ apiKey: testApiKey, limits: { requestsPerMinute: 1 } });
      try {
        const provider = member.create(openAITestConfig(member.type, member.baseUrl(limited.url)));
        await provider.chat(request, live());
        const error = await providerErrorOf(provider.chat(request, live()));
        expect(error.kind).toBe("rate_limited");
        expect(error.retryAfterMs).toBeGreaterThan(0);
      } finally {
        await limited.close();
      }
    });

    it("maps insufficient_quota to quota_exceeded, not retryable", async () => {
      harness.emulator().setFault({ status: 429, errorCode: "insufficient_quota" });
      const error = await providerErrorOf(harness.provider().chat(request, live()));
      expect(error).toMatchObject({ kind: "quota_exceeded", status: 429, retryable: false });
      expect(error.message).toContain("quota");
    });

    it("maps a wrong key to auth without showing the key", async () => {
      const wrongKey = "sk-test-wrong-key-9876543210zyxw";
      const error = await providerErrorOf(harness.provider({ apiKey: new Secret(wrongKey) }).chat(request, live()));
      expect(error).toMatchObject({ kind: "auth", status: 401, retryable: false });
      expect(error.message).not.toContain(wrongKey);
      expect(error.message).not.toContain(testApiKey);
    });

    it("maps a prompt over the context window to context_length", async () => {
      const small = await startEmulator({ apiKey: testApiKey, contextWindow: 10 });
      try {
        const provider = member.create(openAITestConfig(member.type, member.baseUrl(small.url)));
        const content = "one two three four five six seven eight nine ten eleven";
        const long = { ...request, messages: [{ role: "user" as const, content }] };
        const error = await providerErrorOf(provider.chat(long, live()));
        expect(error).toMatchObject({ kind: "context_length", status: 400, retryable: false });
        expect(error.message).toContain("maximum context length");
      } finally {
        await small.close();
      }
    });

    it("maps a 400 content filter to content_filter", async () => {
      harness.emulator().setFault({ status: 400, errorCode: "content_filter" });
      const error = await providerErrorOf(harness.provider().chat(request, live()));
      expect(error).toMatchObject({ kind: "content_filter", status: 400, retryable: false });
    });

    const statusCases: Array<[number, ProviderErrorKind, boolean]> = [
      [400, "invalid_request", false],
      [403, "auth", false],
      [404, "not_found", false],
      [408, "timeout", true],
      [500, "unavailable", true],
      [502, "unavailable", true],
      [503, member.kindOf503, true],
    ];
    for (const [status, kind, retryable] of statusCases) {
      it(`maps ${status} to ${kind}`, async () => {
        harness.emulator().setFault({ status });
        const error = await providerErrorOf(harness.provider().chat(request, live()));
        expect(error).toMatchObject({ kind, status, retryable });
        expect(error.providerRequestId).toMatch(member.providerRequestId);
      });
    }

    it("maps a refused connection to unavailable", async () => {
      const provider = member.create(openAITestConfig(member.type, member.baseUrl(await closedPortUrl())));
      const error = await providerErrorOf(provider.chat(request, live()));
      expect(error).toMatchObject({ kind: "unavailable", retryable: true, status: undefined });
      expect(error.message).toContain("ECONNREFUSED");
    });

    it("maps a stream dropped midway to unavailable after the deltas it got", async () => {
      harness.emulator().setFault({ dropAfterChunks: 1 });
      const { parts, error } = await streamUntilError(harness.provider().streamChat(request, live()));
      expect(parts).toEqual([{ type: "delta", text: "Echo:" }]);
      expect(error).toMatchObject({ kind: "unavailable", retryable: true });
    });

    it("maps an in-stream error event to its kind", async () => {
      harness.emulator().setFault({ errorAfterChunks: 2 });
      const { parts, error } = await streamUntilError(harness.provider().streamChat(request, live()));
      expect(streamedText(parts)).toBe("Echo: Hello,");
      expect(error).toMatchObject({ kind: "unavailable", retryable: true, status: undefined });
      expect(error.message).toBe(`${name}: The server had an error while processing your request. Sorry about that!`);
      expect(error.providerRequestId).toMatch(member.providerRequestId);
    });

    it("maps a truncated stream to unavailable, never a success", async () => {
      harness.emulator().setFault({ truncateAfterChunks: 1 });
      const completion = { model: "gpt-3.5-turbo-instruct", prompt: "Say hi please" };
      const stream = harness.provider().streamComplete(completion, live());
      const { error } = await streamUntilError(stream);
      expect(error.kind).toBe("unavailable");
      expect(error.message).toBe(`${name}: stream ended before it completed`);
    });

    it("maps slow response headers to timeout", async () => {
      harness.emulator().setFault({ latencyMs: 3000 });
      const error = await providerErrorOf(harness.provider({ timeoutMs: 200 }).chat(request, live()));
      expect(error).toMatchObject({ kind: "timeout", retryable: true });
    });

    it("times out a stream whose first token never comes, and aborts it upstream", async () => {
      harness.emulator().setFault({ ttftMs: 3000 });
      const error = await providerErrorOf(harness.provider({ timeoutMs: 200 }).streamChat(request, live()));
      expect(error).toMatchObject({ kind: "timeout", retryable: true });
      const record = await harness.firstRecord();
      await record.done;
      expect(record.aborted).toBe(true);
    });
  });
}
