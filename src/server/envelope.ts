/** Bytes before an enveloped message (gRPC, gRPC-Web, Connect streaming): one flag byte, a 4-byte length. */
export const envelopeHeaderBytes = 5;

/** The flags and payload of `chunk` when it is one whole envelope (connect-es writes them whole), else undefined. */
export function wholeEnvelope(chunk: Uint8Array | undefined): { flags: number; data: Uint8Array } | undefined {
  if (chunk === undefined || chunk.byteLength < envelopeHeaderBytes) return undefined;
  const length = new DataView(chunk.buffer, chunk.byteOffset).getUint32(1);
  if (chunk.byteLength !== envelopeHeaderBytes + length) return undefined;
  return { flags: chunk[0] ?? 0, data: chunk.subarray(envelopeHeaderBytes) };
}
