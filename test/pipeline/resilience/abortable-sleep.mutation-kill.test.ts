// Kills mutants that survived `npm run test:mutation` in src/pipeline/resilience/abortable-sleep.ts (see
// docs/testing.md, "Mutation testing").
import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { abortableSleep } from "../../../src/pipeline/resilience/abortable-sleep.js";

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("abortableSleep", () => {
  it("rejects with the reason the caller aborted with, when aborted before", async () => {
    const controller = new AbortController();
    const reason = new Error("client went away");
    controller.abort(reason);
    expect(await rejectionOf(abortableSleep(1_000, controller.signal))).toBe(reason);
  });

  it("rejects with the reason the caller aborted with, when aborted while waiting", async () => {
    const controller = new AbortController();
    const reason = new Error("deadline");
    const sleeping = rejectionOf(abortableSleep(60_000, controller.signal));
    controller.abort(reason);
    expect(await sleeping).toBe(reason);
  });

  it("rejects with an AbortError when the signal was aborted without a reason (null)", async () => {
    const controller = new AbortController();
    controller.abort(null);
    const error = await rejectionOf(abortableSleep(1_000, controller.signal));
    expect(error).toBeInstanceOf(DOMException);
    expect(error).toMatchObject({ name: "AbortError", message: "The operation was aborted" });
  });
});

describe("abortableSleep: waits that end", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("does not wait for a timer when asked to wait 0 ms or less", async () => {
    const signal = new AbortController().signal;
    const over: number[] = [];
    void abortableSleep(0, signal).then(() => over.push(0));
    void abortableSleep(-5, signal).then(() => over.push(-5));
    // Only the microtasks run: no timer turn, no clock advance.
    await Promise.resolve();
    await Promise.resolve();
    expect(over).toEqual([0, -5]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves no listener on a long-lived signal once each wait is over", async () => {
    const signal = new AbortController().signal;
    for (let i = 0; i < 20; i++) {
      const waiting = abortableSleep(100, signal);
      await vi.advanceTimersByTimeAsync(100);
      await waiting;
    }
    expect(getEventListeners(signal, "abort")).toHaveLength(0);
  });
});
