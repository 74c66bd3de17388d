import { describe, expect, it } from "vitest";
import { safeErrorMessage } from "../../src/telemetry/safe-error-message.js";

describe("safeErrorMessage", () => {
  it("never repeats an auth error and scrubs key-shaped text from others", () => {
    expect(safeErrorMessage({ kind: "auth", message: "Incorrect API key provided: sk-abc***wxyz" })).toBe(
      "the provider rejected the gateway's credentials",
    );
    expect(
      safeErrorMessage({ kind: "invalid_request", message: "bad key sk-proj-AbC123xyz in Bearer eyJhbGciOi.x" }),
    ).toBe("bad key [REDACTED] in [REDACTED]");
    expect(safeErrorMessage({ kind: "unavailable", message: "x".repeat(400) })).toHaveLength(301);
  });
});
