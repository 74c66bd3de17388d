import type { ChatRequest, TokenUsage } from "../../../src/providers/provider.js";

/**
 * A chat request and the usage the emulator reports for it: "You are terse." is 3 tokens and
 * "Hello, world" 2, so the prompt is (3 + 3) + (2 + 3) + 3 = 14 tokens, and the answer
 * "Echo: Hello, world" is 3.
 */
export const echoChat: { request: ChatRequest; answer: string; usage: TokenUsage } = {
  request: {
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hello, world" },
    ],
  },
  answer: "Echo: Hello, world",
  usage: { promptTokens: 14, completionTokens: 3, totalTokens: 17, cachedPromptTokens: 0, cacheWriteTokens: 0 },
};
