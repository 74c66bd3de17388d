import { create, toBinary } from "@bufbuild/protobuf";
import { ChatRequestSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { benchClientHeader, benchKey, benchModels } from "./bench-config.js";

/** One HTTP request, ready to send again and again. */
export interface RequestSpec {
  path: string;
  /** Lower-case names; content-length is added by the drivers. */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** What a chat request asks for. */
export interface ChatShape {
  prompt: string;
  maxTokens?: number;
}

const words = "the quick brown fox jumps over a lazy dog while seven bright stars shine above quiet hills".split(" ");

/** A prompt of `count` words (one emulator token each). */
export function promptOfWords(count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(words[i % words.length] ?? "word");
  return out.join(" ");
}

/** A prompt of about `bytes` bytes of ASCII words. */
export function promptOfBytes(bytes: number): string {
  return promptOfWords(Math.max(1, Math.round(bytes / 5))).slice(0, bytes);
}

/** The 5-byte length prefix of gRPC and Connect streaming messages, then the message. */
function envelope(message: Uint8Array, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const upstreamHeaders = { "content-type": "application/json", authorization: `Bearer ${benchKey}` };
const gatewayHeaders = { [benchClientHeader]: "bench" };

function connectChat(shape: ChatShape, model: string): Record<string, unknown> {
  return {
    model,
    messages: [{ role: "ROLE_USER", content: shape.prompt }],
    ...(shape.maxTokens === undefined ? {} : { options: { maxTokens: shape.maxTokens } }),
  };
}

function grpcChat(shape: ChatShape, model: string): Uint8Array {
  return toBinary(
    ChatRequestSchema,
    create(ChatRequestSchema, {
      model,
      messages: [{ role: Role.USER, content: shape.prompt }],
      ...(shape.maxTokens === undefined ? {} : { options: { maxTokens: shape.maxTokens } }),
    }),
  );
}

/**
 * The benchmark's requests, the same call in each protocol: straight to the emulator's OpenAI API (the body the
 * gateway's adapter sends upstream, so the direct call costs the upstream the same), Connect JSON and gRPC.
 */
export const benchPayloads = {
  directChat(shape: ChatShape, stream = false, model: string = benchModels.chat.upstream): RequestSpec {
    const body = {
      model,
      messages: [{ role: "user", content: shape.prompt }],
      ...(shape.maxTokens === undefined ? {} : { max_tokens: shape.maxTokens }),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    return { path: "/v1/chat/completions", headers: upstreamHeaders, body: json(body) };
  },

  connectChat(shape: ChatShape, model: string = benchModels.chat.name): RequestSpec {
    return {
      path: "/llm.v1.LLMService/Chat",
      headers: { "content-type": "application/json", ...gatewayHeaders },
      body: json(connectChat(shape, model)),
    };
  },

  /** Connect server streaming: one enveloped JSON message. */
  connectStreamChat(shape: ChatShape, model: string = benchModels.chat.name): RequestSpec {
    return {
      path: "/llm.v1.LLMService/StreamChat",
      headers: { "content-type": "application/connect+json", "connect-protocol-version": "1", ...gatewayHeaders },
      body: envelope(json(connectChat(shape, model))),
    };
  },

  grpcChat(shape: ChatShape, stream = false, model: string = benchModels.chat.name): RequestSpec {
    return {
      path: stream ? "/llm.v1.LLMService/StreamChat" : "/llm.v1.LLMService/Chat",
      headers: { "content-type": "application/grpc", te: "trailers", ...gatewayHeaders },
      body: envelope(grpcChat(shape, model)),
    };
  },

  directEmbed(text: string): RequestSpec {
    return {
      path: "/v1/embeddings",
      headers: upstreamHeaders,
      body: json({ model: benchModels.embed.upstream, input: [text], encoding_format: "float" }),
    };
  },

  connectEmbed(text: string): RequestSpec {
    return {
      path: "/llm.v1.LLMService/Embed",
      headers: { "content-type": "application/json", ...gatewayHeaders },
      body: json({ model: benchModels.embed.name, inputs: [text] }),
    };
  },
};
