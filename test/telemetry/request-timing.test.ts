import { describe, expect, it } from "vitest";
import type { AttemptRecord } from "../../src/providers/call-context.js";
import type { RequestSummary } from "../../src/telemetry/request-summary.js";
import { requestTiming } from "../../src/telemetry/request-timing.js";

const t = 1_800_000_000_000;
const attempt = (startedAt: number, endedAt: number): AttemptRecord => ({
  type: "attempt",
  provider: "p",
  providerType: "openai",
  model: "m",
  operation: "chat",
  stream: false,
  startedAt,
  endedAt,
  chunks: 0,
});
const summary = (events: AttemptRecord[], extra: Partial<RequestSummary> = {}): RequestSummary => ({
  rpc: "llm.v1.LLMService/Chat",
  requestId: "r",
  model: "m",
  clientId: "",
  keyId: "",
  tenant: "",
  code: 0,
  startedAt: t,
  endedAt: t + 1000,
  stream: false,
  chunks: 0,
  costMicros: 0n,
  costUnknown: true,
  trace: { events, servedBy: undefined },
  ...extra,
});

describe("requestTiming", () => {
  it("counts the time outside provider attempts as the gateway's added latency", () => {
    expect(requestTiming(summary([attempt(t + 100, t + 400), attempt(t + 500, t + 900)]))).toEqual({
      totalMs: 1000,
      providerMs: 700,
      addedMs: 300,
      timeToFirstChunkMs: undefined,
    });
  });

  it("counts overlapping (hedged) attempts once, and an unfinished attempt until the request's end", () => {
    const timing = requestTiming(summary([attempt(t + 100, t + 600), attempt(t + 300, t + 500), attempt(t + 550, 0)]));
    expect(timing.providerMs).toBe(900);
    expect(timing.addedMs).toBe(100);
  });

  it("gives a stream's time to first chunk from the request's start", () => {
    expect(requestTiming(summary([], { stream: true, firstChunkAt: t + 250 })).timeToFirstChunkMs).toBe(250);
  });
});
