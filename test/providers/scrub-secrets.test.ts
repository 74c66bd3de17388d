import { describe, expect, it } from "vitest";
import { ProviderError } from "../../src/providers/provider-error.js";
import { scrubSecrets } from "../../src/providers/scrub-secrets.js";
import { upstreamMessage } from "../../src/providers/upstream-failure.js";

describe("scrubSecrets", () => {
  it.each([
    ["Incorrect API key provided: sk-abcdef****wxyz. You can find your API key at …", "sk-abcdef", "wxyz"],
    ["invalid x-api-key: sk-ant-api03-AbCdEfGhIjKl_mnop-QRST", "sk-ant", "QRST"],
    ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig was refused", "eyJhbGci", "payload.sig"],
    ['{"api-key": "0123456789abcdef0123456789abcdef"}', "0123456789abcdef", "89abcdef"],
    ["api_key=supersecretvalue&model=x", "supersecretvalue", "secretvalue"],
    ["client key llmgw_Zm9vYmFyYmF6cXV4 is revoked", "llmgw_Zm9v", "YmF6cXV4"],
    ["authorization: Basic dXNlcjpwYXNzd29yZA== refused", "dXNlcjpw", "d29yZA"],
    ["authorization=Bearersk1234567890", "Bearersk12", "567890"],
  ])("removes every fragment of the credential in %j", (message, head, tail) => {
    const scrubbed = scrubSecrets(message);
    expect(scrubbed).not.toContain(head);
    expect(scrubbed).not.toContain(tail);
    expect(scrubbed).toContain("redacted");
  });

  it("keeps ordinary provider messages as they are", () => {
    const message = "This model's maximum context length is 128000 tokens. However, you requested 130000 tokens.";
    expect(scrubSecrets(message)).toBe(message);
  });

  it("keeps the scheme of an authorization header and a placeholder that is not a key", () => {
    // The gateway's own hint to a caller without a key: nothing in it is a credential.
    const hint = "a client key is required: send authorization: Bearer <key>";
    expect(scrubSecrets(hint)).toBe(hint);
    expect(scrubSecrets("authorization: Bearer sk-live-0123456789")).toBe("authorization: Bearer [redacted key]");
    expect(scrubSecrets("authorization: Bearer eyJhbGciOi.x.y")).toBe("authorization: Bearer [redacted]");
  });

  it("bounds a long message", () => {
    expect(scrubSecrets("x".repeat(10_000)).length).toBeLessThanOrEqual(2_001);
  });

  it("replaces a key that the cut would split, instead of keeping part of it", () => {
    const key = "0123456789abcdef0123456789abcdef";
    for (const at of [1_990, 1_999, 2_000 - key.length]) {
      const scrubbed = scrubSecrets(`${"x ".repeat(at / 2)}${key} and more text after it`.padEnd(3_000, "."));
      expect(scrubbed).not.toMatch(/[0-9a-f]{8}/);
      expect(scrubbed.length).toBeLessThanOrEqual(2_001);
      expect(scrubbed.endsWith("…")).toBe(true);
    }
  });

  it("marks the cut of a message whose redactions made it shorter than the bound", () => {
    const keys = "Bearer abcdefghijklmnopqrstuvwxyz0123456789 ".repeat(100);
    const scrubbed = scrubSecrets(keys);
    expect(scrubbed.length).toBeLessThanOrEqual(2_001);
    expect(scrubbed).not.toContain("abcdefghij");
    expect(scrubbed.endsWith("…")).toBe(true);
  });
});

describe("upstreamMessage", () => {
  it("replaces a credential across its 1,000-character cut whole", () => {
    const key = "0123456789abcdef0123456789abcdef";
    const message = upstreamMessage("azure", `${"y ".repeat(495)}${key} ${"z".repeat(500)}`);
    expect(message).not.toMatch(/[0-9a-f]{8}/);
    expect(message.startsWith(`azure: ${"y ".repeat(495)}[redacted]`)).toBe(true);
  });
});

describe("ProviderError", () => {
  it("scrubs its message and stack, and keeps the upstream error out of the standard cause chain", () => {
    const upstream = new Error("401 Incorrect API key provided: sk-proj-abcdef****wxyz");
    const error = new ProviderError({ kind: "auth", provider: "openai", message: upstream.message, cause: upstream });
    expect(error.message).not.toContain("abcdef");
    expect(error.stack ?? "").not.toContain("abcdef");
    expect(error.cause).toBeUndefined();
    expect(error.upstream).toBe(upstream);
    expect(error.with({ retryable: false }).upstream).toBe(upstream);
  });
});
