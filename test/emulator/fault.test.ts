import { describe, expect, it } from "vitest";
import { parseFault } from "../../src/emulator/fault.js";

describe("parseFault", () => {
  it("reads every key of the x-emulator-fault header", () => {
    expect(
      parseFault(
        "status=429;retry-after=2;latency=50;ttft=100;chunk-delay=5;drop-after=5;error-after=3;truncate-after=4;hang;code=insufficient_quota;retry-after-ms=1500",
      ),
    ).toEqual({
      status: 429,
      retryAfterSeconds: 2,
      latencyMs: 50,
      ttftMs: 100,
      chunkDelayMs: 5,
      dropAfterChunks: 5,
      errorAfterChunks: 3,
      truncateAfterChunks: 4,
      hang: true,
      errorCode: "insufficient_quota",
      retryAfterMs: 1500,
    });
  });

  it("accepts spaces, empty parts and an empty header", () => {
    expect(parseFault(" status = 503 ; ; latency=0 ")).toEqual({ status: 503, latencyMs: 0 });
    expect(parseFault("")).toEqual({});
    expect(parseFault("hang=false")).toEqual({ hang: false });
  });

  it("rejects unknown keys and bad values", () => {
    expect(() => parseFault("stats=429")).toThrow(/unknown fault key: stats/);
    expect(() => parseFault("latency=soon")).toThrow(/latency/);
    expect(() => parseFault("latency=-1")).toThrow(/latency/);
    expect(() => parseFault("status=42")).toThrow(/status/);
    expect(() => parseFault("status=429.5")).toThrow(/status/);
    expect(() => parseFault("code=")).toThrow(/code/);
    expect(() => parseFault("drop-after")).toThrow(/drop-after/);
  });
});
