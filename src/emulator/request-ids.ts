import { randomBytes, randomUUID } from "node:crypto";

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const processSeed = randomBytes(12);
const seedHex = processSeed.toString("hex").slice(0, 16);
const seedAlnum = Array.from(processSeed, (byte) => alphabet[byte % alphabet.length] ?? "0").join("");
let counter = 0;

/**
 * Identifiers in each provider's format, unique per process and across processes (a random seed per
 * process, then a counter), made without per-request cryptography so they cost next to nothing.
 */
export const requestIds = {
  /** OpenAI `x-request-id`: `req_` and 32 hex digits. */
  openAi(): string {
    return `req_${seedHex}${(++counter).toString(16).padStart(16, "0")}`;
  },
  /** Azure `x-request-id` and `apim-request-id`: a UUID. */
  azure(): string {
    return randomUUID();
  },
  /** Anthropic `request-id`: `req_011C` and 20 alphanumerics. */
  anthropic(): string {
    return `req_011C${seedAlnum}${(++counter).toString(36).padStart(8, "0")}`;
  },
  /** Chat completion id: `chatcmpl-` and 29 alphanumerics. */
  chatCompletion(): string {
    return `chatcmpl-${seedAlnum}${(++counter).toString(36).padStart(17, "0")}`;
  },
  /** Legacy completion id: `cmpl-` and 29 alphanumerics. */
  completion(): string {
    return `cmpl-${seedAlnum}${(++counter).toString(36).padStart(17, "0")}`;
  },
  /** Anthropic message id: `msg_01` and 22 alphanumerics. */
  message(): string {
    return `msg_01${seedAlnum}${(++counter).toString(36).padStart(10, "0")}`;
  },
};
