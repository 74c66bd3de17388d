import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every client key starts with this, so a leaked one is recognisable (and secret scanners can match it). */
export const secretPrefixMark = "llmgw_";
/** Characters of a secret shown by ListKeys to tell keys apart: the mark and four random characters. */
const shownChars = secretPrefixMark.length + 4;

/** A new client key's secret: the mark and 192 random bits (base64url), and the parts the gateway keeps. */
export interface NewSecret {
  secret: string;
  hash: string;
  prefix: string;
}

/**
 * Client key secrets. A secret is random (192 bits), so a fast hash is as strong as a slow one here: the
 * gateway stores SHA-256 of it and compares hashes, never the secret itself.
 */
export const keySecret = {
  create(): NewSecret {
    const secret = `${secretPrefixMark}${randomBytes(24).toString("base64url")}`;
    return { secret, hash: keySecret.hash(secret), prefix: secret.slice(0, shownChars) };
  },

  hash(secret: string): string {
    return createHash("sha256").update(secret).digest("hex");
  },

  /** A key id: not secret, it names the key in usage, logs and metrics. */
  newId(): string {
    return `key_${randomBytes(8).toString("hex")}`;
  },

  /** Whether `presented` is `expected`, in time that does not depend on where they differ. */
  matches(presented: string, expected: string): boolean {
    const a = createHash("sha256").update(presented).digest();
    const b = createHash("sha256").update(expected).digest();
    return timingSafeEqual(a, b);
  },

  /** The token of an `authorization: Bearer <token>` header value; undefined for anything else. */
  bearer(authorization: string | null | undefined): string | undefined {
    if (authorization === null || authorization === undefined) return undefined;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return match?.[1];
  },
};
