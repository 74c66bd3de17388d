const safe = { filtered: false, severity: "safe" } as const;

/**
 * The content-filter annotations Azure OpenAI adds to its answers, as recorded: `prompt_filter_results` on
 * the answer, `content_filter_results` on each choice (empty on role and finish chunks of a stream).
 */
export const azureContentFilter = {
  /** `prompt_filter_results` of an answer whose prompt passed every filter. */
  promptResults: [
    {
      prompt_index: 0,
      content_filter_results: {
        hate: safe,
        jailbreak: { filtered: false, detected: false },
        self_harm: safe,
        sexual: safe,
        violence: safe,
      },
    },
  ],
  /** A choice's `content_filter_results` in a unary answer. */
  choiceResults(filtered: boolean): object {
    return {
      hate: safe,
      protected_material_code: { filtered: false, detected: false },
      protected_material_text: { filtered: false, detected: false },
      self_harm: safe,
      sexual: filtered ? { filtered: true, severity: "high" } : safe,
      violence: safe,
    };
  },
  /** A content chunk's `content_filter_results`, pre-serialized for the stream hot path. */
  chunkResultsJson: JSON.stringify({ hate: safe, self_harm: safe, sexual: safe, violence: safe }),
  /** A filtered finish chunk's `content_filter_results`, pre-serialized. */
  filteredChunkResultsJson: JSON.stringify({
    hate: safe,
    self_harm: safe,
    sexual: { filtered: true, severity: "high" },
    violence: safe,
  }),
};
