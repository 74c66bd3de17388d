// Kills mutants that survived `npm run test:mutation` in src/pipeline/resilience/abortable-sleep.ts (see
// docs/testing.md, "Mutation testing").
import { describe, expect, it } from "vitest";
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
