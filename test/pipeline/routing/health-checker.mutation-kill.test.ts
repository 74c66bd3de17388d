// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/health-checker.ts (see
// docs/testing.md, "Mutation testing"; the routing run of 2026-12-02 in docs/mutation/routing-survivors.md).
// Fixtures are built inside each test.
import { describe, expect, it, vi } from "vitest";
import { healthCheckSchema } from "../../../src/config/pipeline-schema.js";
import { HealthChecker } from "../../../src/pipeline/routing/health-checker.js";
import type { ChatRequest, GenerationResult, Provider } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0, cacheWriteTokens: 0 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A provider whose chat calls run `answer`; it keeps every request and signal it was given. */
function probed(answer: (signal: AbortSignal) => Promise<GenerationResult>): Provider & {
  requests: ChatRequest[];
} {
  const requests: ChatRequest[] = [];
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    name: "probed",
    type: "openai",
    requests,
    chat: (request, signal) => {
      requests.push(request);
      return answer(signal);
    },
    complete: unused,
    embed: unused,
    streamChat: unused,
    streamComplete: unused,
  };
}

const ok = async (): Promise<GenerationResult> => ({ id: "r", text: ".", finishReason: "stop", usage, model: "m" });

/** Answers when `signal` aborts (failing as cancelled), or after `ms` (answering). */
const answerAfter =
  (ms: number) =>
  (signal: AbortSignal): Promise<GenerationResult> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => void ok().then(resolve), ms);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new ProviderError({ kind: "cancelled", provider: "probed", message: "probed: cancelled" }));
      });
    });

describe("HealthChecker", () => {
  it("sends a one-token chat saying ping to the check's model", async () => {
    const provider = probed(ok);
    await new HealthChecker([{ provider, check: healthCheckSchema.parse({ model: "probe" }) }]).checkNow();
    expect(provider.requests).toEqual([
      { model: "probe", messages: [{ role: "user", content: "ping" }], maxTokens: 1 },
    ]);
  });

  it("works without a listener", async () => {
    const checker = new HealthChecker([{ provider: probed(ok), check: healthCheckSchema.parse({ model: "probe" }) }]);
    await checker.checkNow();
    expect(checker.stateOf("probed").status).toBe("healthy");
  });

  it("tells the listener of changes only, not of every check", async () => {
    const changes: string[] = [];
    const checker = new HealthChecker(
      [{ provider: probed(ok), check: healthCheckSchema.parse({ model: "probe" }) }],
      (provider, status) => changes.push(`${provider} ${status}`),
    );
    await checker.checkNow();
    await checker.checkNow();
    expect(changes).toEqual(["probed healthy"]);
  });

  it("fails a check that outlasts its timeout as unhealthy, with a timeout error", async () => {
    const checker = new HealthChecker([
      { provider: probed(answerAfter(2_000)), check: healthCheckSchema.parse({ model: "probe", timeoutMs: 30 }) },
    ]);
    await checker.checkNow();
    const state = checker.stateOf("probed");
    expect(state.status).toBe("unhealthy");
    expect(state.lastError?.kind).toBe("timeout");
    expect(state.lastError?.message).toBe("probed: health check timed out after 30 ms");
  });

  it("reports an error that is not a provider's as internal, with its message", async () => {
    const checker = new HealthChecker([
      {
        provider: probed(() => Promise.reject(new TypeError("boom"))),
        check: healthCheckSchema.parse({ model: "probe" }),
      },
    ]);
    await checker.checkNow();
    const error = checker.stateOf("probed").lastError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "internal", provider: "probed", message: "probed: health check failed: boom" });
  });

  it("stop aborts a running check and schedules no more", async () => {
    const provider = probed(answerAfter(2_000));
    const checker = new HealthChecker([
      { provider, check: healthCheckSchema.parse({ model: "probe", intervalMs: 20, timeoutMs: 5_000 }) },
    ]);
    checker.start();
    await sleep(10);
    checker.stop();
    await sleep(150);
    expect(provider.requests).toHaveLength(1);
    expect(checker.stateOf("probed").status).toBe("unknown");
  });
});

describe("HealthChecker.start while running", () => {
  it("starts no second round of checks, so stop then stops them all", async () => {
    vi.useFakeTimers();
    try {
      const provider = probed(ok);
      const checker = new HealthChecker([
        { provider, check: healthCheckSchema.parse({ model: "probe", intervalMs: 1_000 }) },
      ]);
      checker.start();
      checker.start();
      expect(provider.requests).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(provider.requests).toHaveLength(2);
      checker.stop();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(provider.requests).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
