import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../../../../src/providers/provider.js";
import { SharedTokenEstimator } from "../../../../src/pipeline/rate-limit/tokens/shared-token-estimator.js";
import { TokenEstimator } from "../../../../src/pipeline/rate-limit/tokens/token-estimator.js";

const plain = new TokenEstimator({ defaultMaxTokens: 1024 });

function messages(text: string): ChatMessage[] {
  return [
    { role: "system", content: "You answer briefly." },
    { role: "user", content: text },
  ];
}

describe("SharedTokenEstimator", () => {
  it("counts the messages of one call once, whichever model name of the same tokenizer asks", async () => {
    const shared = new SharedTokenEstimator({ defaultMaxTokens: 1024 });
    const call = {
      model: "bench-route",
      messages: messages("the quick brown fox jumps over the lazy dog"),
      maxTokens: 64,
    };
    const byClientLimit = shared.chat({ ...call, model: "gpt-4o-mini" });
    const byTarget = shared.chat({ ...call, model: "gpt-4o" });
    expect(byTarget).toBe(byClientLimit);
    expect(await byTarget).toEqual(await plain.chat({ ...call, model: "gpt-4o" }));
  });

  it("counts again for another tokenizer, another output allowance or other messages", async () => {
    const shared = new SharedTokenEstimator({ defaultMaxTokens: 1024 });
    const text = messages("a prompt that tokenizes differently under o200k_base and cl100k_base: naïve façade");
    const first = shared.chat({ model: "gpt-4o", messages: text });
    const otherEncoding = shared.chat({ model: "gpt-4", messages: text });
    const otherVendor = shared.chat({ model: "claude-sonnet-4-5", messages: text });
    const otherAllowance = shared.chat({ model: "gpt-4o", messages: text, maxTokens: 10 });
    const otherMessages = shared.chat({
      model: "gpt-4o",
      messages: messages("a prompt that tokenizes differently under o200k_base and cl100k_base: naïve façade"),
    });
    for (const other of [otherEncoding, otherVendor, otherAllowance, otherMessages]) expect(other).not.toBe(first);
    expect(await otherEncoding).toEqual(await plain.chat({ model: "gpt-4", messages: text }));
    expect(await otherVendor).toEqual(await plain.chat({ model: "claude-sonnet-4-5", messages: text }));
    expect(await otherAllowance).toEqual({ ...(await first), outputTokens: 10 });
    expect(await otherMessages).toEqual(await first);
  });

  it("counts the inputs of one embedding call once", async () => {
    const shared = new SharedTokenEstimator({ defaultMaxTokens: 1024 });
    const inputs = ["first input text", "second input text"];
    const once = shared.embed({ model: "text-embedding-3-small", inputs });
    expect(shared.embed({ model: "text-embedding-3-large", inputs })).toBe(once);
    expect(await once).toEqual(await plain.embed({ model: "text-embedding-3-small", inputs }));
  });
});
