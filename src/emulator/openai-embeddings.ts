import { embeddingVector, vectorToBase64 } from "./embedding-vector.js";
import { countTokens } from "./emulator-tokens.js";
import { isRecord } from "./is-record.js";
import type { OperationContext } from "./operation-context.js";

/** Dimensions of a vector when the request does not ask for others (text-embedding-3-small's). */
export const defaultEmbeddingDimensions = 1536;

interface EmbeddingInput {
  /** What seeds the vector. */
  key: string;
  tokens: number;
}

/**
 * OpenAI's (and Azure's) embeddings: one deterministic unit vector per input, `dimensions` from the request
 * (default 1536), encoded as `float` arrays or as `base64` little-endian float32 (what openai-node asks
 * for by default). Usage counts countTokens of each string input, or the length of each token array.
 */
export function openAiEmbeddings(context: OperationContext): void {
  const { exchange } = context;
  const body = exchange.request.body;
  const invalid = (message: string, param: string | null, code: string | null = null): void =>
    exchange.sendProblem({ kind: "invalid_request", message, param, code });
  if (!isRecord(body)) return invalid("Invalid type for 'body': expected an object.", null, "invalid_type");
  if (exchange.request.api === "openai" && (typeof body.model !== "string" || body.model === "")) {
    return invalid("you must provide a model parameter", null);
  }
  const inputs = readInputs(body.input);
  if (inputs === undefined) {
    return invalid(
      "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      "input",
    );
  }
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    return invalid(
      `Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`,
      "encoding_format",
      "invalid_value",
    );
  }
  const dimensions = body.dimensions ?? defaultEmbeddingDimensions;
  if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1) {
    return invalid(`Invalid value for 'dimensions': expected an integer >= 1.`, "dimensions", "invalid_value");
  }
  let tokens = 0;
  for (const input of inputs) tokens += input.tokens;
  if (tokens > context.contextWindow) {
    return exchange.sendProblem({ kind: "context_length", promptTokens: tokens, limit: context.contextWindow });
  }
  if (!exchange.admit(tokens)) return;
  const data = inputs.map((input, index) => {
    const vector = embeddingVector(input.key, dimensions);
    return { object: "embedding", index, embedding: format === "base64" ? vectorToBase64(vector) : Array.from(vector) };
  });
  const model = exchange.request.api === "azure" ? exchange.deployment : exchange.request.model;
  exchange.sendJson(200, { object: "list", data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/** A string, an array of strings, a token array, or an array of token arrays; undefined when empty or malformed. */
function readInputs(input: unknown): EmbeddingInput[] | undefined {
  if (typeof input === "string") return [{ key: input, tokens: countTokens(input) }];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === "number")) return [tokenArrayInput(input)];
  const inputs: EmbeddingInput[] = [];
  for (const item of input) {
    if (typeof item === "string") inputs.push({ key: item, tokens: countTokens(item) });
    else if (Array.isArray(item) && item.length > 0 && item.every((token) => typeof token === "number"))
      inputs.push(tokenArrayInput(item));
    else return undefined;
  }
  return inputs;
}

function tokenArrayInput(tokens: readonly unknown[]): EmbeddingInput {
  return { key: tokens.join(","), tokens: tokens.length };
}
