import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { grpcStatus } from "../../src/telemetry/grpc-status.js";

describe("grpcStatus", () => {
  it("spells codes as rpc.status_code does and flags server errors only", () => {
    expect(grpcStatus.name(0)).toBe("OK");
    expect(grpcStatus.name(Code.Canceled)).toBe("CANCELLED");
    expect(grpcStatus.name(Code.ResourceExhausted)).toBe("RESOURCE_EXHAUSTED");
    expect(grpcStatus.isServerError(Code.Unavailable)).toBe(true);
    expect(grpcStatus.isServerError(Code.InvalidArgument)).toBe(false);
    expect(grpcStatus.isServerError(0)).toBe(false);
  });
});
