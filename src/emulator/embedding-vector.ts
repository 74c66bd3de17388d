/**
 * A deterministic unit vector for `text`: a PRNG (mulberry32) seeded with the text's FNV-1a hash fills
 * `dimensions` values in [-1, 1), then the vector is normalized. Values are float32, so the `float` and
 * `base64` encodings of the same input decode to identical numbers.
 */
export function embeddingVector(text: string, dimensions: number): Float32Array {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  let state = hash | 0;
  const raw = new Float64Array(dimensions);
  let sumOfSquares = 0;
  for (let index = 0; index < dimensions; index++) {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    const value = (((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    raw[index] = value;
    sumOfSquares += value * value;
  }
  const scale = sumOfSquares === 0 ? 0 : 1 / Math.sqrt(sumOfSquares);
  const vector = new Float32Array(dimensions);
  for (let index = 0; index < dimensions; index++) vector[index] = (raw[index] ?? 0) * scale;
  return vector;
}

/** The vector as base64 of little-endian float32, the form OpenAI sends for `encoding_format: "base64"`. */
export function vectorToBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let index = 0; index < vector.length; index++) bytes.writeFloatLE(vector[index] ?? 0, index * 4);
  return bytes.toString("base64");
}
