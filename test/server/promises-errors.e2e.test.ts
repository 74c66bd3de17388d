import { toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CircuitState, ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import type { ChatRequest, GenerationResult, Provider, StreamPart } from "../../src/providers/provider.js";
import { ProviderError, type ProviderErrorKind } from "../../src/providers/provider-error.js";
import { codeForKind, toConnectError } from "../../src/server/error-codes.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";
import { failure } from "../support/call-failure.js";

/**
 * README: "every provider failure becomes one of a closed set of error kinds, mapped once to a gRPC status code
 * with an `llm.v1.ErrorDetail` (kind, provider, provider request id, retry delay)"; "Calling it" lists the codes;
 * "Health": a circuit breaker per target (an open one refuses with UNAVAILABLE, kind circuit_open); and
 * src/server/error-codes.ts: an error that is not a ProviderError is a bug, shown as INTERNAL "internal error"
 * with nothing of the bug.
 */


function detailOf(error: ConnectError) {
  const [detail] = error.findDetails(ErrorDetailSchema);
  if (detail === undefined) throw new Error(`no ErrorDetail on "${error.rawMessage}"`);
  return detail;
}

const hello = [{ role: Role.USER, content: "Say hello" }];

describe("the error table (README: Calling it)", () => {
  // The README's list, kind by kind. Every kind of the closed set is here once: a kind added without a code
  // fails the size check.
  const readme: Record<ProviderErrorKind, Code> = {
    unauthenticated: Code.Unauthenticated,
    permission_denied: Code.PermissionDenied,
    invalid_request: Code.InvalidArgument,
    context_length: Code.InvalidArgument,
    content_filter: Code.InvalidArgument,
    not_found: Code.NotFound,
    rate_limited: Code.ResourceExhausted,
    quota_exceeded: Code.ResourceExhausted,
    budget_exceeded: Code.ResourceExhausted,
    queue_full: Code.ResourceExhausted,
    overloaded: Code.Unavailable,
    unavailable: Code.Unavailable,
    circuit_open: Code.Unavailable,
    timeout: Code.DeadlineExceeded,
    cancelled: Code.Canceled,
    unsupported: Code.Unimplemented,
    auth: Code.Internal,
    internal: Code.Internal,
  };

  it("maps each error kind to the README's gRPC code", () => {
    expect(codeForKind).toEqual(readme);
  });

  it.each(Object.entries(readme) as [ProviderErrorKind, Code][])("%s: the status carries an ErrorDetail with kind, provider, provider request id and retry delay", (kind, code) => {
    const error = toConnectError(
      new ProviderError({ kind, provider: "openai", message: `openai: ${kind} happened`, providerRequestId: "req_123", retryAfterMs: 1500, status: 400 }),
    );
    expect(error.code).toBe(code);
    expect(detailOf(error)).toMatchObject({ kind, provider: "openai", providerRequestId: "req_123", retryAfterMs: 1500n });
    expect(error.rawMessage).toContain("req_123");
    if (kind !== "auth") expect(error.rawMessage).toContain(`openai: ${kind} happened`);
  });

  it("shows an error that is not a ProviderError (a bug) as INTERNAL 'internal error', with nothing of the bug", () => {
    for (const bug of [new TypeError("Cannot read properties of undefined (reading 'sk-live-abc')"), "a thrown string sk-live-abc", { secret: "sk-live-abc" }]) {
      const error = toConnectError(bug);
      expect(error.code).toBe(Code.Internal);
      expect(error.rawMessage).toBe("internal error");
      expect(detailOf(error)).toMatchObject({ kind: "internal", provider: "", providerRequestId: "" });
      expect(toJsonString(ErrorDetailSchema, detailOf(error))).not.toContain("sk-live-abc");
    }
  });
});

describe("through the gateway", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      // One attempt per call; a breaker that opens after 2 consecutive failures and stays open for a minute.
      pipeline: { retry: { maxAttempts: 1 } },
      providerDefaults: { circuitBreaker: { failureThreshold: 2, minRequests: 1_000, openMs: 60_000 } },
    });
  });
  afterEach(() => {
    h.emulator.setFault(undefined);
    h.emulator.reset();
  });
  afterAll(() => h.close());

  it("an open circuit refuses with UNAVAILABLE, ErrorDetail kind circuit_open and the time until it half-opens, without calling the provider", async () => {
    h.emulator.setFault((request) => (request.api === "anthropic" ? { status: 500 } : undefined));
    for (let i = 0; i < 2; i++) expect((await failure(() => h.grpc.chat({ model: models.anthropic, messages: hello }))).code).toBe(Code.Unavailable);
    expect(h.emulator.records).toHaveLength(2);
    const { providers } = await h.grpc.listProviders({});
    expect(providers.find((p) => p.name === "claude")?.targets[0]?.circuitState).toBe(CircuitState.OPEN);

    h.emulator.setFault(undefined);
    const unary = await failure(() => h.grpc.chat({ model: models.anthropic, messages: hello }));
    const streamed = await failure(async () => {
      for await (const chunk of h.grpc.streamChat({ model: models.anthropic, messages: hello })) void chunk;
    });
    for (const error of [unary, streamed]) {
      expect(error.code).toBe(Code.Unavailable);
      const detail = detailOf(error);
      expect(detail.kind).toBe("circuit_open");
      expect(detail.retryable).toBe(false);
      expect(detail.retryAfterMs).toBeGreaterThan(50_000n);
      expect(detail.retryAfterMs).toBeLessThanOrEqual(60_000n);
      expect(error.rawMessage).toMatch(/^claude\b.*circuit open/);
    }
    // The open circuit answered both calls itself: the emulator saw only the two failures.
    expect(h.emulator.records).toHaveLength(2);
    // Other providers are not affected.
    expect((await h.grpc.chat({ model: models.openai, messages: hello })).message?.content).toBe("Echo: Say hello");
  });

  describe("a bug inside the pipeline (an error that is not a ProviderError)", () => {
    // The route of one model is made to throw what a programming error throws; the rest of the gateway (the
    // handlers, the cost account, the error interceptor, the telemetry interceptor) is the real one.
    const bug = "Cannot read properties of undefined (reading 'sk-bug-0123456789')";
    let restore: () => void = () => undefined;
    beforeAll(() => {
      const route = h.gateway.gateway.router.resolve(models.azure).provider as Provider;
      const { chat, streamChat } = route;
      Object.assign(route, {
        chat: (_request: ChatRequest): Promise<GenerationResult> => Promise.reject(new TypeError(bug)),
        async *streamChat(): AsyncGenerator<StreamPart> {
          yield { type: "delta", text: "Echo:" };
          throw new TypeError(bug);
        },
      });
      restore = () => Object.assign(route, { chat, streamChat });
    });
    afterAll(() => restore());

    it("reaches a unary caller as INTERNAL 'internal error', ErrorDetail kind internal, nothing of the bug", async () => {
      const error = await failure(() => h.grpc.chat({ model: models.azure, messages: hello }));
      expect(error.code).toBe(Code.Internal);
      expect(error.rawMessage).toBe("internal error");
      expect(detailOf(error)).toMatchObject({ kind: "internal", provider: "", providerRequestId: "", retryable: false, retryAfterMs: 0n });
      const visible = `${error.message} ${toJsonString(ErrorDetailSchema, detailOf(error))} ${JSON.stringify([...error.metadata])}`;
      expect(visible).not.toMatch(/sk-bug|Cannot read|TypeError|\n\s+at /);
    });

    it("ends a stream that already sent a chunk with INTERNAL 'internal error', never a clean end", async () => {
      let text = "";
      const error = await failure(async () => {
        for await (const chunk of h.grpc.streamChat({ model: models.azure, messages: hello })) text += chunk.delta;
      });
      expect(text).toBe("Echo:");
      expect(error.code).toBe(Code.Internal);
      expect(error.rawMessage).toBe("internal error");
      expect(detailOf(error).kind).toBe("internal");
    });

    it("reaches a Connect JSON (HTTP/1.1) caller the same way", async () => {
      const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: models.azure, messages: [{ role: "ROLE_USER", content: "Say hello" }] }),
      });
      expect(response.status).toBe(500);
      const body = (await response.json()) as { code: string; message: string };
      expect(body).toMatchObject({ code: "internal", message: "internal error" });
      expect(JSON.stringify(body)).not.toContain("sk-bug");
    });
  });
});
