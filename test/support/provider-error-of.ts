import type { StreamPart } from "../../src/providers/provider.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { collectStream } from "./collect-stream.js";

/** The ProviderError a call or a stream failed with; throws when it succeeded or failed otherwise. */
export async function providerErrorOf(call: Promise<unknown> | AsyncIterable<StreamPart>): Promise<ProviderError> {
  try {
    if (Symbol.asyncIterator in call) await collectStream(call);
    else await call;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw new Error(`expected a ProviderError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected the call to fail");
}
