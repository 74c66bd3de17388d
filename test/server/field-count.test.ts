import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ChatRequestSchema, EmbedRequestSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { type CountedField, FieldCounter } from "../../src/server/field-count.js";

const messages: CountedField = { number: 2, name: "messages", noun: "messages", limit: 3 };

/** Feeds `bytes` in pieces of `size` bytes (1: every varint and length split across chunks). */
function counted(bytes: Uint8Array, fields: readonly CountedField[], size = bytes.length): FieldCounter {
  const counter = new FieldCounter(fields);
  for (let i = 0; i < bytes.length; i += size) counter.feed(bytes.subarray(i, i + size));
  return counter;
}

function chat(count: number, content = "hello"): Uint8Array {
  return toBinary(
    ChatRequestSchema,
    create(ChatRequestSchema, {
      model: "gpt-4o",
      messages: Array.from({ length: count }, () => ({ role: Role.USER, content, name: "n" })),
      options: { maxTokens: 300, temperature: 0.5, stop: ["x"] },
      metadata: { team: "a", job: "b" },
    }),
  );
}

describe("FieldCounter: repeated fields counted before decoding", () => {
  it("counts a request's messages exactly as decoding would, whatever the chunking", () => {
    for (const size of [1, 2, 3, 7, 1_000]) {
      expect(counted(chat(3), [messages], size).violation()).toBeUndefined();
      const error = counted(chat(4), [messages], size).violation();
      expect(error?.code).toBe(Code.InvalidArgument);
      expect(error?.rawMessage).toBe("messages: 4 messages, the limit is 3");
    }
  });

  it("skips the contents of long fields (a 300 KB message is one element, its bytes never parsed as tags)", () => {
    // Content full of bytes that would read as field-2 tags if it were not skipped by its length.
    const bytes = chat(2, "\u0012".repeat(300_000));
    expect(counted(bytes, [messages], 4_096).violation()).toBeUndefined();
  });

  it("counts other fields by their own numbers: embedding inputs", () => {
    const inputs: CountedField = { number: 2, name: "inputs", noun: "inputs", limit: 2 };
    const embed = (n: number) =>
      toBinary(
        EmbedRequestSchema,
        create(EmbedRequestSchema, { model: "e", inputs: Array(n).fill("x"), dimensions: 8 }),
      );
    expect(counted(embed(2), [inputs], 1).violation()).toBeUndefined();
    expect(counted(embed(3), [inputs], 1).violation()?.rawMessage).toBe("inputs: 3 inputs, the limit is 2");
  });

  it("stops counting, saying nothing, at bytes that are not a message it can frame (a group, a runaway varint)", () => {
    const group = new Uint8Array([0x13, 0x12, 0x00, 0x12, 0x00, 0x12, 0x00, 0x12, 0x00]); // field 2 start-group first
    expect(counted(group, [messages]).violation()).toBeUndefined();
    const runaway = new Uint8Array([...Array(11).fill(0xff), 0x12, 0x00, 0x12, 0x00, 0x12, 0x00, 0x12, 0x00]);
    expect(counted(runaway, [messages]).violation()).toBeUndefined();
  });
});
