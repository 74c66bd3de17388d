import { describe, expect, it } from "vitest";
import { newRequestId } from "../../src/server/request-id.js";

describe("newRequestId", () => {
  it("makes UUID version 7 ids that carry the time and sort by it", () => {
    const at = Date.UTC(2026, 11, 1, 5, 0, 0, 123);
    const id = newRequestId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(at);
    const later = newRequestId(at + 1);
    expect(later > id).toBe(true);
  });

  it("never repeats within a millisecond", () => {
    const ids = new Set(Array.from({ length: 5_000 }, () => newRequestId(1_800_000_000_000)));
    expect(ids.size).toBe(5_000);
  });
});
