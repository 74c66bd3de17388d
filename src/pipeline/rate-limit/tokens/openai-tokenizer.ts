/** The BPE encodings of current OpenAI models. */
export type OpenAIEncoding = "o200k_base" | "cl100k_base";

/** Counts the tokens of a text, special-token markers counted as plain text. */
export type TokenCounter = (text: string) => number;

const o200kModels =
  /^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|gpt-realtime|gpt-audio|o1|o3|o4|codex-mini|omni-moderation)/;
const cl100kModels = /^(gpt-4|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002|davinci-002|babbage-002)/;

const loaded = new Map<OpenAIEncoding, Promise<TokenCounter>>();

/**
 * OpenAI's tokenizers (gpt-tokenizer, pure JavaScript), loaded on first use. Loading an encoding evaluates its
 * rank table synchronously (measured 0.3-0.6 s for cl100k_base and 0.5-1 s for o200k_base on this machine),
 * so a server should call `preload()` before it takes traffic rather than pay it inside a request.
 */
export const openAITokenizer = {
  /**
   * The encoding of an OpenAI model name: o200k_base for gpt-4o, gpt-4.1, gpt-4.5, gpt-5, gpt-oss and the
   * o-series; cl100k_base for gpt-4, gpt-3.5 (Azure's gpt-35) and the embedding models. A fine-tune
   * (`ft:gpt-4o-mini:...`) or a routed name (`openai/gpt-4o`) counts as its base model; anything else
   * (other vendors, Azure deployments named freely) has none.
   */
  encodingFor(model: string): OpenAIEncoding | undefined {
    const base = model.toLowerCase().replace(/^ft:/, "").replace(/^.*\//, "");
    if (o200kModels.test(base)) return "o200k_base";
    if (cl100kModels.test(base)) return "cl100k_base";
    return undefined;
  },

  /** The counter of an encoding, importing it on first use. */
  load(encoding: OpenAIEncoding): Promise<TokenCounter> {
    let counter = loaded.get(encoding);
    if (counter === undefined) {
      counter = importCounter(encoding);
      loaded.set(encoding, counter);
      counter.catch(() => loaded.delete(encoding));
    }
    return counter;
  },

  /** Loads the encodings of `models` now (every encoding when none is given), so that no request pays for it. */
  async preload(models?: Iterable<string>): Promise<void> {
    const encodings = new Set<OpenAIEncoding>();
    if (models === undefined) {
      encodings.add("o200k_base").add("cl100k_base");
    } else {
      for (const model of models) {
        const encoding = openAITokenizer.encodingFor(model);
        if (encoding !== undefined) encodings.add(encoding);
      }
    }
    await Promise.all([...encodings].map((encoding) => openAITokenizer.load(encoding)));
  },
};

/** Text is counted as the provider reads it: `<|endoftext|>` in a prompt is plain text, not a special token. */
const plainText = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };

/**
 * Entries of each encoding's merge cache (gpt-tokenizer keeps one per process, 100,000 entries by default):
 * random text fills it at ~180 KB per request, so it is kept small; common words still hit it.
 */
const mergeCacheEntries = 4_096;

async function importCounter(encoding: OpenAIEncoding): Promise<TokenCounter> {
  const module =
    encoding === "o200k_base"
      ? await import("gpt-tokenizer/encoding/o200k_base")
      : await import("gpt-tokenizer/encoding/cl100k_base");
  module.setMergeCacheSize(mergeCacheEntries);
  return (text) => module.countTokens(text, plainText);
}
