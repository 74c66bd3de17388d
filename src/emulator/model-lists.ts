const openAiModels = [
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-4.1-nano",
  "gpt-3.5-turbo-instruct",
  "text-embedding-3-small",
  "text-embedding-3-large",
] as const;

const anthropicModels = [
  ["claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29T00:00:00Z"],
  ["claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"],
  ["claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05T00:00:00Z"],
] as const;

/** The nominal model lists `GET /v1/models` returns (any model name is accepted everywhere else). */
export const modelLists = {
  /** OpenAI's `{"object":"list","data":[{id,object:"model",created,owned_by}]}`. */
  openAi(): object {
    return {
      object: "list",
      data: openAiModels.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "system" })),
    };
  },
  /** Azure's `GET /openai/models`: OpenAI's list with Azure's status, capabilities and lifecycle fields. */
  azure(): object {
    return {
      object: "list",
      data: openAiModels.map((id) => {
        const embeddings = id.startsWith("text-embedding");
        return {
          id,
          object: "model",
          created_at: 1_700_000_000,
          status: "succeeded",
          lifecycle_status: "generally-available",
          capabilities: {
            fine_tune: false,
            inference: true,
            completion: id.endsWith("-instruct"),
            chat_completion: !embeddings,
            embeddings,
          },
        };
      }),
    };
  },
  /** Anthropic's page `{data:[{type:"model",id,display_name,created_at}],has_more,first_id,last_id}`. */
  anthropic(contextWindow: number): object {
    const data = anthropicModels.map(([id, displayName, createdAt]) => ({
      type: "model",
      id,
      display_name: displayName,
      created_at: createdAt,
      max_input_tokens: contextWindow,
      max_tokens: 64_000,
    }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null };
  },
};
