import { describe, expect, it } from "vitest";
import { anthropicFinishReason } from "../../../src/providers/anthropic/anthropic-finish-reason.js";
import { anthropicUsage } from "../../../src/providers/anthropic/anthropic-usage.js";

describe("anthropicUsage", () => {
  it("counts cache reads and writes in promptTokens and keeps them apart", () => {
    const usage = anthropicUsage({
      input_tokens: 7,
      cache_read_input_tokens: 2000,
      cache_creation_input_tokens: 300,
      output_tokens: 41,
    });
    expect(usage).toEqual({
      promptTokens: 2307,
      completionTokens: 41,
      totalTokens: 2348,
      cachedPromptTokens: 2000,
      cacheWriteTokens: 300,
    });
  });

  it("reads missing or null cache counts as zero", () => {
    const usage = anthropicUsage({ input_tokens: 10, cache_read_input_tokens: null, output_tokens: 5 });
    expect(usage).toEqual({
      promptTokens: 10,
      completionTokens: 5,
      totalTokens: 15,
      cachedPromptTokens: 0,
      cacheWriteTokens: 0,
    });
  });
});

describe("anthropicFinishReason", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
    ["pause_turn", "other"],
    ["some_future_reason", "other"],
    [null, "other"],
  ])("maps %s to %s", (stopReason, expected) => {
    expect(anthropicFinishReason(stopReason)).toBe(expected);
  });
});
