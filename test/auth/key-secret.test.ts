import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { keySecret, secretPrefixMark } from "../../src/auth/key-secret.js";

describe("keySecret", () => {
  it("creates secrets that start with llmgw_ and carry at least 128 random bits", () => {
    const made = keySecret.create();
    expect(secretPrefixMark).toBe("llmgw_");
    expect(made.secret.startsWith("llmgw_")).toBe(true);
    const random = made.secret.slice("llmgw_".length);
    // base64url: 6 bits per character.
    expect(random).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(random.length * 6).toBeGreaterThanOrEqual(128);
    expect(made.secret).toHaveLength(38);
  });

  it("never repeats a secret", () => {
    const secrets = new Set(Array.from({ length: 500 }, () => keySecret.create().secret));
    expect(secrets.size).toBe(500);
  });

  it("keeps the SHA-256 hex of the secret and its first ten characters", () => {
    const made = keySecret.create();
    expect(made.hash).toBe(createHash("sha256").update(made.secret).digest("hex"));
    expect(made.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(made.prefix).toBe(made.secret.slice(0, 10));
    expect(keySecret.hash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("makes key ids that are not secrets", () => {
    const id = keySecret.newId();
    expect(id).toMatch(/^key_[0-9a-f]{16}$/);
    expect(keySecret.newId()).not.toBe(id);
  });

  it("parses a bearer token case-insensitively on the scheme", () => {
    expect(keySecret.bearer("Bearer llmgw_abc")).toBe("llmgw_abc");
    expect(keySecret.bearer("bearer llmgw_abc")).toBe("llmgw_abc");
    expect(keySecret.bearer("BEARER\tllmgw_abc  ")).toBe("llmgw_abc");
  });

  it("rejects anything that is not one bearer token", () => {
    expect(keySecret.bearer(undefined)).toBeUndefined();
    expect(keySecret.bearer(null)).toBeUndefined();
    expect(keySecret.bearer("")).toBeUndefined();
    expect(keySecret.bearer("Bearer")).toBeUndefined();
    expect(keySecret.bearer("Bearer ")).toBeUndefined();
    expect(keySecret.bearer("Basic dXNlcjpwYXNz")).toBeUndefined();
    expect(keySecret.bearer("llmgw_abc")).toBeUndefined();
    expect(keySecret.bearer("Bearer a b")).toBeUndefined();
    expect(keySecret.bearer("Bearerllmgw_abc")).toBeUndefined();
  });

  it("compares secrets by hash", () => {
    expect(keySecret.matches("llmgw_same", "llmgw_same")).toBe(true);
    expect(keySecret.matches("llmgw_same", "llmgw_other")).toBe(false);
    expect(keySecret.matches("short", "a-much-longer-value")).toBe(false);
  });
});
