import type { ChatCompletion, Completion, CreateEmbeddingResponse } from "openai/resources";
import type { EmbedResult, GenerationResult } from "../provider.js";
import type { UpstreamRateLimit } from "../upstream-rate-limit.js";
import { openAIFinishReason } from "./openai-finish-reason.js";
import { openAIUsage } from "./openai-usage.js";

/**
 * Domain results from OpenAI-family unary answers. An answer the adapter cannot read (no choice, a
 * missing vector) throws a plain Error, which the adapter reports as ProviderError `internal`.
 */
export const openAIResults = {
  chat(
    completion: ChatCompletion,
    providerRequestId: string | undefined,
    rateLimit?: UpstreamRateLimit,
  ): GenerationResult {
    const choice = completion.choices.find((c) => c.index === 0) ?? completion.choices[0];
    if (!choice) throw new Error("the chat completion has no choices");
    return {
      id: completion.id,
      text: choice.message.content ?? "",
      finishReason: openAIFinishReason(choice.finish_reason),
      usage: openAIUsage(completion.usage),
      model: completion.model,
      providerRequestId,
      ...(rateLimit === undefined ? {} : { rateLimit }),
    };
  },

  completion(
    completion: Completion,
    providerRequestId: string | undefined,
    rateLimit?: UpstreamRateLimit,
  ): GenerationResult {
    const choice = completion.choices.find((c) => c.index === 0) ?? completion.choices[0];
    if (!choice) throw new Error("the completion has no choices");
    return {
      id: completion.id,
      text: choice.text,
      finishReason: openAIFinishReason(choice.finish_reason),
      usage: openAIUsage(completion.usage),
      model: completion.model,
      providerRequestId,
      ...(rateLimit === undefined ? {} : { rateLimit }),
    };
  },

  /** Vectors in input order: the wire list is ordered by each item's `index`, not by position. */
  embedding(
    response: CreateEmbeddingResponse,
    inputCount: number,
    providerRequestId: string | undefined,
    rateLimit?: UpstreamRateLimit,
  ): EmbedResult {
    const byIndex = new Map(response.data.map((d) => [d.index, d.embedding] as const));
    const embeddings = Array.from({ length: inputCount }, (_, i) => {
      const vector = byIndex.get(i);
      if (!vector) throw new Error(`the embedding response has no vector for input ${i}`);
      return Array.from(vector);
    });
    const result: EmbedResult = {
      embeddings,
      usage: openAIUsage(response.usage),
      model: response.model,
      providerRequestId,
    };
    if (rateLimit !== undefined) result.rateLimit = rateLimit;
    return result;
  },
};
