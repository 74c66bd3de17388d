import { describe, expect, it } from "vitest";
import { embeddingVector, vectorToBase64 } from "../../src/emulator/embedding-vector.js";

describe("embeddingVector", () => {
  it("is a deterministic unit vector seeded by the text", () => {
    const vector = embeddingVector("hello", 64);
    expect(vector).toHaveLength(64);
    expect(Array.from(vector)).toEqual(Array.from(embeddingVector("hello", 64)));
    expect(Array.from(vector)).not.toEqual(Array.from(embeddingVector("hellp", 64)));
    expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
  });

  it("encodes base64 as little-endian float32", () => {
    const vector = new Float32Array([1, -2.5]);
    const bytes = Buffer.from(vectorToBase64(vector), "base64");
    expect(bytes.readFloatLE(0)).toBe(1);
    expect(bytes.readFloatLE(4)).toBe(-2.5);
  });
});
