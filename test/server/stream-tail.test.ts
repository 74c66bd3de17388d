import { describe, expect, it } from "vitest";
import { withTail } from "../../src/server/stream-tail.js";

async function* counted(n: number, failWith?: Error): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
  if (failWith) throw failWith;
}

/** Every message, or the error the stream ended with. */
async function drain<T>(messages: AsyncIterable<T>): Promise<{ values: T[]; error: unknown }> {
  const values: T[] = [];
  try {
    for await (const value of messages) values.push(value);
    return { values, error: undefined };
  } catch (error) {
    return { values, error };
  }
}

describe("withTail", () => {
  it("adds the tails of later interceptors to the stream the first one tailed: one layer for all", () => {
    const inner = counted(2);
    const first = withTail(inner, {});
    const second = withTail(first, {});
    expect(first).not.toBe(inner);
    expect(second).toBe(first);
  });

  it("passes every message and tells each tail once that the stream finished", async () => {
    const ends: string[] = [];
    const messages = withTail(withTail(counted(3), { end: (e) => ends.push(`inner ${String(e)}`) }), {
      end: (e) => ends.push(`outer ${String(e)}`),
    });
    expect(await drain(messages)).toEqual({ values: [0, 1, 2], error: undefined });
    expect(ends).toEqual(["inner undefined", "outer undefined"]);
  });

  it("maps a failure innermost first, and tells every tail's end the error passed on", async () => {
    const seen: string[] = [];
    const original = new Error("upstream");
    const mapped = new Error("mapped");
    const messages = withTail(
      withTail(counted(1, original), {
        fail: (e) => {
          seen.push(`error interceptor saw ${(e as Error).message}`);
          return mapped;
        },
      }),
      {
        fail: (e) => {
          seen.push(`recorder saw ${(e as Error).message}`);
          return e;
        },
        end: (e) => seen.push(`end with ${(e as Error).message}`),
      },
    );
    const { values, error } = await drain(messages);
    expect(values).toEqual([0]);
    expect(error).toBe(mapped);
    expect(seen).toEqual(["error interceptor saw upstream", "recorder saw mapped", "end with mapped"]);
  });

  it("ends when the consumer closes the stream, also before its first message, and closes the inner one", async () => {
    let innerClosed = false;
    const inner: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: 1 }),
        return: () => {
          innerClosed = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const ends: unknown[] = [];
    const iterator = withTail(inner, { end: (e) => ends.push(e) })[Symbol.asyncIterator]();
    expect(await iterator.return?.()).toEqual({ done: true, value: undefined });
    expect(innerClosed).toBe(true);
    expect(ends).toEqual([undefined]);
  });

  it("ends once however the stream is ended twice", async () => {
    let ends = 0;
    const iterator = withTail(counted(1), { end: () => (ends += 1) })[Symbol.asyncIterator]();
    await iterator.next();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    await iterator.return?.();
    expect(ends).toBe(1);
  });
});
