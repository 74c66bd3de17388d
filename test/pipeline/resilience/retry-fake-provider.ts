import type {
  ChatRequest,
  EmbedResult,
  GenerationResult,
  Provider,
  StreamPart,
} from "../../../src/providers/provider.js";
import { ProviderError, type ProviderErrorKind } from "../../../src/providers/provider-error.js";

/** What one attempt of the fake does: fail, or answer (a stream yields `deltas` first, then may fail). */
export type FakeOutcome =
  | { fail: ProviderErrorKind; retryAfterMs?: number }
  | { deltas?: string[]; failAfterDeltas?: ProviderErrorKind };

/** A scripted Provider for the retry policy's pure logic; `attempts` counts calls of any method. */
export interface ScriptedProvider extends Provider {
  readonly attempts: number;
}

const usage = { promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0, cacheWriteTokens: 0 };

/** A fake that plays `script` in order, one outcome per attempt (the last one repeats). */
export function scriptedProvider(script: readonly FakeOutcome[], name = "fake"): ScriptedProvider {
  let attempts = 0;
  const next = (): FakeOutcome => {
    const outcome = script[Math.min(attempts, script.length - 1)] ?? {};
    attempts += 1;
    return outcome;
  };
  const error = (kind: ProviderErrorKind, retryAfterMs?: number): ProviderError =>
    new ProviderError({
      kind,
      provider: name,
      message: `${name}: ${kind}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  const result = (model: string): GenerationResult => ({ id: "r", text: "ok", finishReason: "stop", usage, model });
  async function unary(model: string): Promise<GenerationResult> {
    const outcome = next();
    if ("fail" in outcome) throw error(outcome.fail, outcome.retryAfterMs);
    return result(model);
  }
  async function* stream(request: ChatRequest): AsyncGenerator<StreamPart> {
    const outcome = next();
    if ("fail" in outcome) throw error(outcome.fail, outcome.retryAfterMs);
    for (const text of outcome.deltas ?? ["ok"]) yield { type: "delta", text };
    if (outcome.failAfterDeltas !== undefined) throw error(outcome.failAfterDeltas);
    const { text: _text, ...finish } = result(request.model);
    yield { type: "finish", ...finish };
  }
  return {
    name,
    type: "openai",
    get attempts() {
      return attempts;
    },
    chat: (request) => unary(request.model),
    streamChat: (request) => stream(request),
    complete: (request) => unary(request.model),
    streamComplete: (request) =>
      stream({ model: request.model, messages: [{ role: "user", content: request.prompt }] }),
    embed: async (request): Promise<EmbedResult> => {
      const outcome = next();
      if ("fail" in outcome) throw error(outcome.fail, outcome.retryAfterMs);
      return { embeddings: request.inputs.map(() => [0]), usage, model: request.model };
    },
  };
}
