import { describe, expect, it } from "vitest";
import { echoAnswer } from "../../src/emulator/echo-answer.js";

describe("echoAnswer", () => {
  it("echoes the source with its token pieces", () => {
    expect(echoAnswer("Hello, world", undefined, [])).toEqual({
      text: "Echo: Hello, world",
      pieces: ["Echo:", " Hello,", " world"],
      completionTokens: 3,
      finish: "stop",
      stopSequence: undefined,
    });
  });

  it("cuts to max tokens with finish length", () => {
    expect(echoAnswer("Hello, world", 2, [])).toMatchObject({
      text: "Echo: Hello,",
      completionTokens: 2,
      finish: "length",
    });
    expect(echoAnswer("Hello, world", 3, [])).toMatchObject({ text: "Echo: Hello, world", finish: "stop" });
  });

  it("cuts before the earliest stop sequence", () => {
    expect(echoAnswer("one two three", undefined, ["three", "two"])).toMatchObject({
      text: "Echo: one ",
      completionTokens: 2,
      finish: "stop",
      stopSequence: "two",
    });
    expect(echoAnswer("one two", undefined, ["", "absent"])).toMatchObject({
      text: "Echo: one two",
      stopSequence: undefined,
    });
  });

  it("prefers the length limit when it is reached before the stop sequence", () => {
    expect(echoAnswer("a b c d", 2, ["d"])).toMatchObject({
      text: "Echo: a",
      finish: "length",
      stopSequence: undefined,
    });
  });
});
