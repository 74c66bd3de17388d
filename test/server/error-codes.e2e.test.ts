import { toJsonString } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import type { Fault } from "../../src/emulator/fault.js";
import { models, startHarness, testKey, wrongKey, type Harness } from "../support/gateway-harness.js";
import { failure } from "../support/call-failure.js";

let h: Harness;
beforeAll(async () => {
  // One attempt and a breaker that never opens: these tests check how each error class is mapped, one call each.
  h = await startHarness({
    emulator: { contextWindow: 50 },
    providerDefaults: { timeoutMs: 300, circuitBreaker: { failureThreshold: 10_000, minRequests: 10_000 } },
    pipeline: { retry: { maxAttempts: 1 } },
  });
});
afterEach(() => h.emulator.setFault(undefined));
afterAll(() => h.close());

const messages = [{ role: Role.USER, content: "Say hello" }];

async function chatFailure(model: string, fault?: Fault): Promise<ConnectError> {
  h.emulator.setFault(fault);
  return failure(() => h.grpc.chat({ model, messages }));
}

async function streamFailure(model: string, fault: Fault): Promise<{ error: ConnectError; deltas: string[] }> {
  h.emulator.setFault(fault);
  const deltas: string[] = [];
  const error = await failure(async () => {
    for await (const chunk of h.grpc.streamChat({
      model,
      messages: [{ role: Role.USER, content: "a b c d e f g h i j" }],
    })) {
      if (chunk.delta) deltas.push(chunk.delta);
    }
  });
  return { error, deltas };
}

function detail(error: ConnectError) {
  const [found] = error.findDetails(ErrorDetailSchema);
  if (!found) throw new Error(`no ErrorDetail on ${error.message}`);
  return found;
}

describe.each([models.openai, models.azure, models.anthropic, models.compatible])(
  "error classes through %s",
  (model) => {
    // The provider limiter then holds the target for that second (it honours retry-after), so keep it short.
    it("429 with retry-after → RESOURCE_EXHAUSTED with the retry delay and the provider's request id", async () => {
      const error = await chatFailure(model, { status: 429, retryAfterSeconds: 1 });
      expect(error.code).toBe(Code.ResourceExhausted);
      expect(detail(error)).toMatchObject({ kind: "rate_limited", retryable: true, retryAfterMs: 1000n });
      expect(detail(error).providerRequestId).not.toBe("");
      expect(error.rawMessage).toContain(detail(error).providerRequestId);
    });

    it("500 and 503 → UNAVAILABLE", async () => {
      expect((await chatFailure(model, { status: 500 })).code).toBe(Code.Unavailable);
      expect((await chatFailure(model, { status: 503 })).code).toBe(Code.Unavailable);
    });

    it("a prompt over the context window → INVALID_ARGUMENT (context_length)", async () => {
      const error = await failure(() =>
        h.grpc.chat({ model, messages: [{ role: Role.USER, content: "word ".repeat(60) }] }),
      );
      expect(error.code).toBe(Code.InvalidArgument);
      expect(detail(error).kind).toBe("context_length");
    });

    it("a provider that hangs past its timeout → DEADLINE_EXCEEDED", async () => {
      const error = await chatFailure(model, { hang: true });
      expect(error.code).toBe(Code.DeadlineExceeded);
      expect(detail(error).kind).toBe("timeout");
    });

    it("a stream whose connection drops after 3 chunks → UNAVAILABLE after those chunks, never a clean end", async () => {
      const { error, deltas } = await streamFailure(model, { dropAfterChunks: 3 });
      expect(error.code).toBe(Code.Unavailable);
      expect(deltas.join("")).toBe("Echo: a b");
      expect(detail(error)).toMatchObject({ kind: "unavailable", retryable: false });
      expect(error.rawMessage).toContain("stream failed after 3 chunks (9 characters) were delivered");
    });

    it("a stream cut short without its final events → UNAVAILABLE", async () => {
      const { error, deltas } = await streamFailure(model, { truncateAfterChunks: 4 });
      expect(error.code).toBe(Code.Unavailable);
      expect(deltas.join("")).toBe("Echo: a b c");
    });

    // The emulator's in-stream error event (OpenAI's `server_error`, Anthropic's `overloaded_error`) comes after
    // 2 chunks reached the client: with routing.midStream "error" that is a mid-stream failure, `unavailable`
    // and not retryable (codeForKind: UNAVAILABLE), naming what was delivered and the provider's message.
    it("an in-stream error event after 2 chunks → UNAVAILABLE (unavailable, not retryable), not a clean end", async () => {
      const { error, deltas } = await streamFailure(model, { errorAfterChunks: 2 });
      expect(deltas.join("")).toBe("Echo: a");
      expect(error.code).toBe(Code.Unavailable);
      expect(detail(error)).toMatchObject({ kind: "unavailable", retryable: false });
      expect(error.rawMessage).toContain("stream failed after 2 chunks (7 characters) were delivered");
      expect(error.rawMessage).toContain(
        model === models.anthropic ? "Overloaded" : "The server had an error while processing your request",
      );
    });
  },
);

describe("provider-specific error classes", () => {
  it("Anthropic 529 overloaded → UNAVAILABLE (overloaded)", async () => {
    const error = await chatFailure(models.anthropic, { status: 529 });
    expect(error.code).toBe(Code.Unavailable);
    expect(detail(error)).toMatchObject({ kind: "overloaded", provider: "claude", retryable: true });
  });

  it("OpenAI insufficient_quota → RESOURCE_EXHAUSTED, not retryable", async () => {
    const error = await chatFailure(models.openai, { status: 429, errorCode: "insufficient_quota" });
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(detail(error)).toMatchObject({ kind: "quota_exceeded", retryable: false });
  });

  it("Azure content filter → INVALID_ARGUMENT (content_filter)", async () => {
    const error = await chatFailure(models.azure, { status: 400, errorCode: "content_filter" });
    expect(error.code).toBe(Code.InvalidArgument);
    expect(detail(error).kind).toBe("content_filter");
  });

  it("a provider rejecting the gateway's key → INTERNAL naming the provider, never the key", async () => {
    const error = await chatFailure(models.wrongKey);
    expect(error.code).toBe(Code.Internal);
    expect(error.rawMessage).toContain("openai-misconfigured");
    expect(detail(error)).toMatchObject({ kind: "auth", provider: "openai-misconfigured" });
    const visible = `${error.message} ${toJsonString(ErrorDetailSchema, detail(error))}`;
    for (const secret of [wrongKey, testKey, wrongKey.slice(-4), wrongKey.slice(0, 8)])
      expect(visible).not.toContain(secret);
  });

  it("an upstream 404 → NOT_FOUND", async () => {
    expect((await chatFailure(models.openai, { status: 404 })).code).toBe(Code.NotFound);
  });

  it("embeddings on Anthropic → UNIMPLEMENTED", async () => {
    const error = await failure(() => h.grpc.embed({ model: models.anthropicEmbed, inputs: ["x"] }));
    expect(error.code).toBe(Code.Unimplemented);
  });

  it("an unknown model → NOT_FOUND", async () => {
    const error = await failure(() => h.grpc.chat({ model: "no-such-model", messages }));
    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toContain("no-such-model");
  });

  it("messages never carry a stack trace", async () => {
    const error = await chatFailure(models.openai, { status: 500 });
    expect(error.rawMessage).not.toMatch(/\n\s+at /);
  });
});
