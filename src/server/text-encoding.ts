import { configureTextEncoding, getTextEncoding } from "@bufbuild/protobuf/wire";

/** `String.prototype.isWellFormed` (Node 20; not in the ES2023 library types the project compiles against). */
type WellFormedString = string & { isWellFormed(): boolean };

/**
 * Makes protobuf-es (and connect-es, which shares its global text encoding) check that strings are valid UTF-16
 * with `String.prototype.isWellFormed` instead of its portable fallback, `encodeURIComponent`, which builds a
 * percent-encoded copy of every string field it checks: 9% of the gateway's CPU under 64 KiB prompts of
 * non-ASCII text. Same answer (false exactly for a lone surrogate), no copy. Idempotent.
 */
export function useNativeUtf8Check(): void {
  const encoding = getTextEncoding();
  configureTextEncoding({
    encodeUtf8: encoding.encodeUtf8,
    decodeUtf8: encoding.decodeUtf8,
    checkUtf8: (text) => (text as WellFormedString).isWellFormed(),
  });
}
