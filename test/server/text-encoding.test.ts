import { fromJsonString } from "@bufbuild/protobuf";
import { getTextEncoding } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { ChatRequestSchema } from "../../gen/llm/v1/llm_service_pb.js";
import { useNativeUtf8Check } from "../../src/server/text-encoding.js";

describe("useNativeUtf8Check", () => {
  it("checks strings as protobuf-es's own check does: false exactly for a lone surrogate", () => {
    const texts = [
      "",
      "plain",
      "\u00e9\u3000\u2003 mixed",
      "\ud83d\ude00 pair",
      "lone \ud800",
      "\udc00 low",
      "a\ud800b",
    ];
    const portable = texts.map((text) => getTextEncoding().checkUtf8(text));
    useNativeUtf8Check();
    expect(texts.map((text) => getTextEncoding().checkUtf8(text))).toEqual(portable);
    expect(portable).toEqual([true, true, true, true, false, false, false]);
  });

  it("is what protobuf-es uses once set: a message with a lone surrogate still does not encode", () => {
    useNativeUtf8Check();
    const json = JSON.stringify({ model: "m", messages: [{ role: "ROLE_USER", content: "ok \u2003" }] });
    expect(fromJsonString(ChatRequestSchema, json).messages[0]?.content).toBe("ok \u2003");
    // JSON can carry a lone surrogate as an escape; reading it into a string field is refused.
    expect(() => fromJsonString(ChatRequestSchema, '{"model": "bad \\ud800"}')).toThrow();
  });
});
