import { describe, expect, it } from "vitest";
import {
  connectionErrorCode,
  isConnectionLoss,
  kindOfStatus,
  upstreamMessage,
} from "../../src/providers/upstream-failure.js";

function coded(code: string, message = "socket error"): Error {
  return Object.assign(new Error(message), { code });
}

describe("kindOfStatus", () => {
  it.each([
    [429, "rate_limited"],
    [401, "auth"],
    [403, "auth"],
    [402, "quota_exceeded"],
    [404, "not_found"],
    [408, "timeout"],
    [529, "overloaded"],
    [500, "unavailable"],
    [502, "unavailable"],
    [503, "unavailable"],
    [400, "invalid_request"],
    [413, "invalid_request"],
    [422, "invalid_request"],
  ])("maps HTTP %i to %s for every vendor", (status, kind) => {
    expect(kindOfStatus(status)).toBe(kind);
  });

  it.each([409, 405, 410, 415, 451, 399, 200])("leaves HTTP %i to the vendor's own error type", (status) => {
    expect(kindOfStatus(status)).toBeUndefined();
  });
});

describe("connectionErrorCode", () => {
  it("finds a connection code along the cause chain", () => {
    const error = new TypeError("fetch failed", { cause: new Error("wrapped", { cause: coded("ECONNREFUSED") }) });
    expect(connectionErrorCode(error)).toBe("ECONNREFUSED");
  });

  it("takes the outermost connection code and accepts undici's UND_ERR_ codes", () => {
    const error = Object.assign(new Error("closed", { cause: coded("ECONNRESET") }), { code: "UND_ERR_SOCKET" });
    expect(connectionErrorCode(error)).toBe("UND_ERR_SOCKET");
  });

  it("ignores codes that are not connection failures, and stops after six links", () => {
    expect(connectionErrorCode(coded("ERR_INVALID_ARG_TYPE"))).toBeUndefined();
    let deep: Error = coded("ECONNRESET");
    for (let i = 0; i < 6; i++) deep = new Error(`level ${String(i)}`, { cause: deep });
    expect(connectionErrorCode(deep)).toBeUndefined();
    expect(connectionErrorCode("ECONNRESET")).toBeUndefined();
  });
});

describe("isConnectionLoss", () => {
  it("is true for undici's terminated body and failed fetch, and for a coded connection failure", () => {
    expect(isConnectionLoss(new TypeError("terminated"))).toBe(true);
    expect(isConnectionLoss(new Error("outer", { cause: new TypeError("fetch failed") }))).toBe(true);
    expect(isConnectionLoss(new Error("outer", { cause: coded("EPIPE") }))).toBe(true);
  });

  it("is true for undici's parser error (an answer whose HTTP framing broke), with or without a code", () => {
    const parserError = Object.assign(new Error("Response does not match the HTTP/1.1 protocol"), {
      name: "HTTPParserError",
    });
    expect(isConnectionLoss(parserError)).toBe(true);
    expect(isConnectionLoss(new Error("outer", { cause: parserError }))).toBe(true);
  });

  it("is false for other errors and for values that are not errors", () => {
    expect(isConnectionLoss(new Error("Unexpected token < in JSON"))).toBe(false);
    expect(isConnectionLoss("terminated")).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });
});

describe("upstreamMessage", () => {
  it("prefixes the provider's name and cuts the API key out of the text", () => {
    expect(upstreamMessage("openai", "bad key sk-live-1234 given, sk-live-1234 again", "sk-live-1234")).toBe(
      "openai: bad key [REDACTED] given, [REDACTED] again",
    );
  });

  it("leaves a key shorter than four characters alone (it would cut ordinary words)", () => {
    expect(upstreamMessage("local", "the abc of it", "abc")).toBe("local: the abc of it");
  });

  it("keeps at most 1,000 characters of upstream text and marks the cut", () => {
    expect(upstreamMessage("p", "z".repeat(1000))).toBe(`p: ${"z".repeat(1000)}`);
    expect(upstreamMessage("p", "z".repeat(1001))).toBe(`p: ${"z".repeat(1000)}…`);
  });
});
