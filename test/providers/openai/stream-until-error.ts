import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

/** The parts a stream yielded before it failed, and the ProviderError it failed with. */
export async function streamUntilError(
  parts: AsyncIterable<StreamPart>,
): Promise<{ parts: StreamPart[]; error: ProviderError }> {
  const received: StreamPart[] = [];
  try {
    for await (const part of parts) received.push(part);
  } catch (error) {
    if (error instanceof ProviderError) return { parts: received, error };
    throw new Error(`expected a ProviderError, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected the stream to fail; it yielded ${JSON.stringify(received)}`);
}
