import { toJsonString } from "@bufbuild/protobuf";
import { Code, type ConnectError } from "@connectrpc/connect";
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

  // The kinds whose retry delay reaches the client (README: "set only where waiting helps").
  const delayed = new Set<ProviderErrorKind>([
    "rate_limited",
    "overloaded",
    "unavailable",
    "queue_full",
    "circuit_open",
    "budget_exceeded",
  ]);

  it.each(Object.entries(readme) as [ProviderErrorKind, Code][])(
    "%s: the status carries an ErrorDetail with kind, provider, provider request id and the retry delay where waiting helps",
    (kind, code) => {
      const error = toConnectError(
        new ProviderError({
          kind,
          provider: "openai",
          message: `openai: ${kind} happened`,
          providerRequestId: "req_123",
          retryAfterMs: 1500,
          status: 400,
        }),
      );
      expect(error.code).toBe(code);
      expect(detailOf(error)).toMatchObject({
        kind,
        provider: "openai",
        providerRequestId: "req_123",
        retryAfterMs: delayed.has(kind) ? 1500n : 0n,
      });
      expect(error.rawMessage).toContain("req_123");
      if (kind !== "auth") expect(error.rawMessage).toContain(`openai: ${kind} happened`);
    },
  );

  it("shows an error that is not a ProviderError (a bug) as INTERNAL 'internal error', with nothing of the bug", () => {
    for (const bug of [
      new TypeError("Cannot read properties of undefined (reading 'sk-live-abc')"),
      "a thrown string sk-live-abc",
      { secret: "sk-live-abc" },
    ]) {
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

  it("an open circuit refuses with UNAVAILABLE, ErrorDetail kind circuit_open, the provider name and the time until it half-opens, without calling the provider", async () => {
    h.emulator.setFault((request) => (request.api === "anthropic" ? { status: 500 } : undefined));
    for (let i = 0; i < 2; i++)
      expect((await failure(() => h.grpc.chat({ model: models.anthropic, messages: hello }))).code).toBe(
        Code.Unavailable,
      );
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
      // The configured provider name (the proto's "the configured provider name"), not the breaker's provider/model.
      expect(detail.provider).toBe("claude");
      expect(detail.retryable).toBe(false);
      expect(detail.retryAfterMs).toBeGreaterThan(50_000n);
      expect(detail.retryAfterMs).toBeLessThanOrEqual(60_000n);
      expect(error.rawMessage).toMatch(/^claude\/claude-sonnet-4-20250514: circuit open/);
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
      expect(detailOf(error)).toMatchObject({
        kind: "internal",
        provider: "",
        providerRequestId: "",
        retryable: false,
        retryAfterMs: 0n,
      });
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

describe("every error carries an ErrorDetail (README: Calling it)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterEach(() => {
    h.emulator.setFault(undefined);
    h.emulator.reset();
  });
  afterAll(() => h.close());

  /** Reads a stream to its end; throws what ended it. */
  async function drain(messages: AsyncIterable<unknown>): Promise<void> {
    for await (const message of messages) void message;
  }

  it("a request that fails validation: INVALID_ARGUMENT, ErrorDetail kind invalid_request, on every generation RPC", async () => {
    const refusals = [
      await failure(() => h.grpc.chat({ model: models.openai, messages: [] })),
      await failure(() => h.connectJson.chat({ model: models.openai, messages: [{ role: Role.UNSPECIFIED }] })),
      await failure(() => drain(h.grpc.streamChat({ model: "", messages: hello }))),
      await failure(() => h.grpc.complete({ model: models.openai, prompt: "x", options: { maxTokens: 0 } })),
      await failure(() => drain(h.grpcWeb.streamComplete({ model: models.openai, options: { temperature: 3 } }))),
      await failure(() => h.grpc.embed({ model: models.embed, inputs: [] })),
    ];
    expect(refusals.map((error) => error.rawMessage)).toEqual([
      "messages: at least one message is required",
      "messages[0].role: not set (ROLE_UNSPECIFIED, 0); use ROLE_SYSTEM, ROLE_USER, ROLE_ASSISTANT or ROLE_TOOL",
      "model: is required",
      "options.max_tokens: must be positive, got 0",
      "options.temperature: must be between 0 and 2",
      "inputs: at least one input is required",
    ]);
    for (const error of refusals) {
      expect(error.code).toBe(Code.InvalidArgument);
      expect(detailOf(error)).toMatchObject({ kind: "invalid_request", provider: "", retryable: false });
    }
    expect(h.emulator.records).toHaveLength(0);
  });

  it("a client's own deadline: DEADLINE_EXCEEDED, ErrorDetail kind timeout, unary and streaming, gRPC and Connect", async () => {
    h.emulator.setFault({ hang: true });
    // The deadline is sent as a header only, so that the client does not give up first with an error of its own:
    // the status is the gateway's.
    const grpcDeadline = { headers: { "grpc-timeout": "200m" } };
    const deadlines = [
      await failure(() => h.grpc.chat({ model: models.openai, messages: hello }, grpcDeadline)),
      await failure(() => drain(h.grpc.streamChat({ model: models.anthropic, messages: hello }, grpcDeadline))),
      await failure(() =>
        h.connectJson.chat({ model: models.azure, messages: hello }, { headers: { "connect-timeout-ms": "200" } }),
      ),
    ];
    for (const error of deadlines) {
      expect(error.code).toBe(Code.DeadlineExceeded);
      expect(error.rawMessage).toBe("the operation timed out");
      expect(detailOf(error)).toMatchObject({ kind: "timeout", provider: "", providerRequestId: "" });
    }
  });
});

describe("a prompt larger than a whole tokens-per-minute limit (README: Rate limits)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ providerDefaults: { rateLimit: { tokensPerMinute: 100 } } });
  });
  afterAll(() => h.close());

  it("fails at once, saying it can never fit, with no retry delay and no provider call", async () => {
    const long = [{ role: Role.USER, content: "word ".repeat(400) }];
    const started = performance.now();
    const error = await failure(() => h.grpc.chat({ model: models.openai, messages: long }));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(
      /^target:openai: the prompt alone is about \d{3} tokens, more than its whole tokensPerMinute limit \(100\): it can never be admitted; shorten it or raise the limit$/,
    );
    expect(detailOf(error)).toMatchObject({ kind: "queue_full", retryable: false, retryAfterMs: 0n });
    expect(h.emulator.records).toHaveLength(0);
    // A prompt that fits is still served.
    await expect(h.grpc.chat({ model: models.openai, messages: hello })).resolves.toBeDefined();
  });
});
