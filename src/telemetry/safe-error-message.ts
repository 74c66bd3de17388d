import type { ProviderErrorKind } from "../providers/provider-error.js";

const keyLike = /\b(?:sk-[\w*.-]{4,}|Bearer\s+[\w.~+/=-]+)/gi;

/**
 * An attempt's error message fit for spans: providers echo part of a rejected key in auth errors
 * ("Incorrect API key provided: sk-abc***wxyz"), so those say only that the key was refused; other messages
 * lose anything shaped like a key or bearer token and are cut to 300 characters.
 */
export function safeErrorMessage(error: { kind: ProviderErrorKind; message: string }): string {
  if (error.kind === "auth") return "the provider rejected the gateway's credentials";
  const scrubbed = error.message.replace(keyLike, "[REDACTED]");
  return scrubbed.length > 300 ? `${scrubbed.slice(0, 300)}…` : scrubbed;
}
