import { describe, expect, it } from "vitest";
import { openAITokenizer } from "../../../../src/pipeline/rate-limit/tokens/openai-tokenizer.js";
import { TokenEstimator } from "../../../../src/pipeline/rate-limit/tokens/token-estimator.js";

const estimator = new TokenEstimator({ defaultMaxTokens: 1024 });

/** Deterministic prose: random lowercase words with some sentence breaks, no repeated text for caches to hit. */
function prose(chars: number, seed = 7): string {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  let text = "";
  while (text.length < chars) {
    const word = Array.from({ length: 2 + Math.floor(next() * 8) }, () =>
      String.fromCharCode(97 + Math.floor(next() * 26)),
    );
    text += (next() < 0.1 ? ". " : " ") + word.join("");
  }
  return text.slice(0, chars);
}

describe("openAITokenizer.encodingFor", () => {
  it.each([
    ["gpt-4o", "o200k_base"],
    ["gpt-4o-mini-2024-07-18", "o200k_base"],
    ["gpt-4.1-nano", "o200k_base"],
    ["gpt-5", "o200k_base"],
    ["o1-mini", "o200k_base"],
    ["o3", "o200k_base"],
    ["o4-mini", "o200k_base"],
    ["ft:gpt-4o-mini:acme::abc", "o200k_base"],
    ["openai/gpt-4o", "o200k_base"],
    ["gpt-4", "cl100k_base"],
    ["gpt-4-turbo", "cl100k_base"],
    ["gpt-3.5-turbo", "cl100k_base"],
    ["gpt-35-turbo", "cl100k_base"],
    ["text-embedding-3-small", "cl100k_base"],
    ["text-embedding-ada-002", "cl100k_base"],
    ["claude-sonnet-4-5", undefined],
    ["llama-3.1-8b", undefined],
    ["my-deployment", undefined],
  ])("%s → %s", (model, encoding) => {
    expect(openAITokenizer.encodingFor(model)).toBe(encoding);
  });
});

describe("TokenEstimator", () => {
  it("counts an OpenAI chat with the real tokenizer and OpenAI's framing", async () => {
    // "Hello, world!" is 4 tokens (Hello | , | ␣world | !) in both encodings; "You are terse." is 4.
    const messages = [
      { role: "system" as const, content: "You are terse." },
      { role: "user" as const, content: "Hello, world!" },
    ];
    for (const model of ["gpt-4o", "gpt-4"]) {
      const estimate = await estimator.chat({ model, messages, maxTokens: 20 });
      expect(estimate).toEqual({ promptTokens: 3 + (3 + 1 + 4) + (3 + 1 + 4), outputTokens: 20 });
    }
  });

  it("counts a message name and its extra token", async () => {
    const estimate = await estimator.chat({
      model: "gpt-4o",
      messages: [{ role: "user", content: "Hello, world!", name: "bob" }],
    });
    expect(estimate.promptTokens).toBe(3 + (3 + 1 + 4) + (1 + 1));
  });

  it("tells the encodings apart", async () => {
    const text = "Ünïcödé façade — naïve résumé, 東京 and Zürich";
    const o200k = await estimator.completion({ model: "gpt-4o", prompt: text });
    const cl100k = await estimator.completion({ model: "gpt-4", prompt: text });
    expect(o200k.promptTokens).not.toBe(cl100k.promptTokens);
  });

  it("estimates Anthropic and unknown models as ceil(chars / 3.5) with the same framing", async () => {
    const messages = [{ role: "user" as const, content: "abcdefgh" }];
    for (const model of ["claude-sonnet-4-5", "mistral-large"]) {
      const estimate = await estimator.chat({ model, messages });
      expect(estimate).toEqual({ promptTokens: 3 + (3 + 1) + Math.ceil(8 / 3.5), outputTokens: 1024 });
    }
    expect(TokenEstimator.estimateFromChars(7)).toBe(2);
    expect(TokenEstimator.estimateFromChars(8)).toBe(3);
  });

  it("reserves max tokens, else the default; embeddings reserve no output", async () => {
    expect((await estimator.completion({ model: "gpt-4o", prompt: "hi", maxTokens: 7 })).outputTokens).toBe(7);
    expect((await estimator.completion({ model: "gpt-4o", prompt: "hi" })).outputTokens).toBe(1024);
    const embed = await estimator.embed({
      model: "text-embedding-3-small",
      inputs: ["Hello, world!", "Hello, world!"],
    });
    expect(embed).toEqual({ promptTokens: 8, outputTokens: 0 });
  });

  it("counts special-token markers in a prompt as plain text instead of failing", async () => {
    const estimate = await estimator.completion({ model: "gpt-4o", prompt: "a <|endoftext|> b" });
    expect(estimate.promptTokens).toBeGreaterThan(3);
  });

  it("counts a long prompt in chunks exactly as in one piece", async () => {
    const text = prose(60_000);
    const chunked = new TokenEstimator({ defaultMaxTokens: 1, chunkChars: 1000 });
    const whole = new TokenEstimator({ defaultMaxTokens: 1, chunkChars: 1_000_000 });
    for (const model of ["gpt-4o", "gpt-4"]) {
      const [a, b] = await Promise.all([
        chunked.completion({ model, prompt: text }),
        whole.completion({ model, prompt: text }),
      ]);
      expect(a.promptTokens).toBe(b.promptTokens);
    }
  });

  it("counts a 1 MB prompt without holding the event loop: it turns while the count runs", async () => {
    const text = prose(1024 * 1024, 11);
    let turns = 0;
    let counting = true;
    const spin = (): void => {
      turns++;
      if (counting) setImmediate(spin);
    };
    setImmediate(spin);
    const estimate = await estimator.completion({ model: "gpt-4o", prompt: text });
    counting = false;
    expect(turns).toBeGreaterThan(10);
    expect(estimate.promptTokens).toBeGreaterThan(text.length / 6);
  });

  it("extrapolates past exactMaxChars at the ratio of the part counted", async () => {
    const text = prose(200_000, 3);
    const exact = await new TokenEstimator({ defaultMaxTokens: 1, exactMaxChars: 1_000_000 }).completion({
      model: "gpt-4o",
      prompt: text,
    });
    const sampled = await new TokenEstimator({ defaultMaxTokens: 1, exactMaxChars: 20_000 }).completion({
      model: "gpt-4o",
      prompt: text,
    });
    expect(sampled.promptTokens).not.toBe(exact.promptTokens);
    expect(Math.abs(sampled.promptTokens - exact.promptTokens)).toBeLessThan(exact.promptTokens * 0.02);
  });

  it("cuts runs without whitespace, so that a megabyte of one word is counted quickly and about right", async () => {
    const run = "x".repeat(1024 * 1024);
    const estimate = await new TokenEstimator({ defaultMaxTokens: 1, exactMaxChars: 2_000_000 }).completion({
      model: "gpt-4",
      prompt: run,
    });
    const piece = await estimator.completion({ model: "gpt-4", prompt: "x".repeat(256), maxTokens: 1 });
    expect(estimate.promptTokens).toBe(piece.promptTokens * 4096);
  });

  it("counts delivered output text", async () => {
    expect(await estimator.text("gpt-4o", "Hello, world!")).toBe(4);
    expect(await estimator.text("claude-haiku-4-5", "Hello, world!")).toBe(Math.ceil(13 / 3.5));
  });
});
