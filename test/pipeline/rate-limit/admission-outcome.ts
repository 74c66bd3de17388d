import { ProviderError } from "../../../src/providers/provider-error.js";

/** "admitted", the kind of the error it failed with, or "waiting" when neither happened within 100 ms. */
export async function outcomeOf(promise: Promise<unknown>): Promise<string> {
  const waiting = new Promise<string>((resolve) => setTimeout(() => resolve("waiting"), 100));
  const settled = promise.then(
    () => "admitted",
    (error: unknown) => (error instanceof ProviderError ? error.kind : String(error)),
  );
  return Promise.race([settled, waiting]);
}
