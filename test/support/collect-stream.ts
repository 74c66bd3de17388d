import type { StreamPart } from "../../src/providers/provider.js";

/** Every part of a stream, in order. */
export async function collectStream(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const all: StreamPart[] = [];
  for await (const part of parts) all.push(part);
  return all;
}

/** The text of a stream's deltas, concatenated. */
export function streamedText(parts: StreamPart[]): string {
  return parts.flatMap((part) => (part.type === "delta" ? [part.text] : [])).join("");
}
