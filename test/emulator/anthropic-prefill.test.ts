import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { echoAnswer } from "../../src/emulator/echo-answer.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";

let emulator: Emulator;
let client: Anthropic;

beforeAll(async () => {
  emulator = await startEmulator();
  client = new Anthropic({ apiKey: "sk-ant-test", baseURL: emulator.url, maxRetries: 0 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

describe("echoAnswer with a prefill", () => {
  it("answers the rest of the echo after the prefill, counting only the new tokens", () => {
    expect(echoAnswer("a b c d", undefined, [], "Echo: a b")).toEqual({
      text: " c d",
      pieces: [" c", " d"],
      completionTokens: 2,
      finish: "stop",
      stopSequence: undefined,
    });
  });

  it("applies max tokens and stop sequences to the new text only", () => {
    expect(echoAnswer("a b c d", 1, [], "Echo: a")).toMatchObject({
      text: " b",
      finish: "length",
      completionTokens: 1,
    });
    expect(echoAnswer("a b c d", undefined, ["a"], "Echo: a")).toMatchObject({
      text: " b c d",
      stopSequence: undefined,
    });
  });

  it("answers the whole echo when the prefill is not its beginning", () => {
    expect(echoAnswer("a b", undefined, [], "Sure")).toMatchObject({ text: "Echo: a b", completionTokens: 3 });
  });
});

describe("Anthropic assistant prefill", () => {
  const conversation: Anthropic.MessageParam[] = [
    { role: "user", content: "a b c d" },
    { role: "assistant", content: "Echo: a b" },
  ];

  it("continues the prefill in a message, the prefill counting as a prompt message", async () => {
    const message = await client.messages.create({ model: "c", max_tokens: 50, messages: conversation });
    expect(message).toMatchObject({
      content: [{ type: "text", text: " c d" }],
      stop_reason: "end_turn",
      usage: { input_tokens: 4 + 3 + (3 + 3) + 3, output_tokens: 2 },
    });
  });

  it("streams only the continuation", async () => {
    const stream = client.messages.stream({ model: "c", max_tokens: 50, messages: conversation });
    const deltas: string[] = [];
    stream.on("text", (text) => deltas.push(text));
    const final = await stream.finalMessage();
    expect(deltas).toEqual([" c", " d"]);
    expect(final.usage).toMatchObject({ input_tokens: 16, output_tokens: 2 });
  });

  it("refuses a prefill that ends in whitespace, as the real API does", async () => {
    const error = await client.messages
      .create({
        model: "c",
        max_tokens: 5,
        messages: [
          { role: "user", content: "a b" },
          { role: "assistant", content: "Echo: " },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    if (!(error instanceof Anthropic.BadRequestError)) return;
    expect(error.error).toMatchObject({
      error: {
        type: "invalid_request_error",
        message: "messages: final assistant content cannot end with trailing whitespace",
      },
    });
  });
});
