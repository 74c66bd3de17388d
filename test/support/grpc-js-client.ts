import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** A plain JS view of llm.v1 messages as protobufjs decodes them (enums as names, int64 as strings). */
export interface JsStreamChunk {
  id: string;
  delta: string;
  finishReason: string;
  usage: { promptTokens: number; completionTokens: number; totalTokens: number; costMicros: string } | null;
  metadata: { provider: string; providerType: string; model: string; attempts: number; requestId: string } | null;
}

/** A unary response of the independent client, in protobufjs' plain-object form. */
export type JsMessage = Record<string, unknown>;

/** The LLMService methods this test client uses, as @grpc/grpc-js generates them. */
export interface GrpcJsLLMService extends grpc.Client {
  Chat(
    request: JsMessage,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: JsMessage) => void,
  ): grpc.ClientUnaryCall;
  StreamChat(
    request: JsMessage,
    metadata?: grpc.Metadata,
    options?: grpc.CallOptions,
  ): grpc.ClientReadableStream<JsStreamChunk>;
}

/** The standard health service as grpc-js generates it. */
export interface GrpcJsHealth extends grpc.Client {
  Check(
    request: { service: string },
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): grpc.ClientUnaryCall;
}

const protoRoot = fileURLToPath(new URL("../../proto", import.meta.url));

function load(file: string): grpc.GrpcObject {
  const definition = protoLoader.loadSync(file, {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition);
}

function service(root: grpc.GrpcObject, path: string[]): grpc.ServiceClientConstructor {
  let node: unknown = root;
  for (const part of path) node = (node as Record<string, unknown>)[part];
  if (typeof node !== "function") throw new Error(`no service ${path.join(".")}`);
  return node as grpc.ServiceClientConstructor;
}

/**
 * A client built only from the .proto file with @grpc/grpc-js and protobufjs: an implementation of gRPC,
 * HTTP/2 and Protobuf independent of the gateway's own (Connect, protobuf-es).
 */
export function grpcJsClients(address: string): { llm: GrpcJsLLMService; health: GrpcJsHealth; close(): void } {
  const llmCtor = service(load("llm/v1/llm_service.proto"), ["llm", "v1", "LLMService"]);
  const healthCtor = service(load("grpc/health/v1/health.proto"), ["grpc", "health", "v1", "Health"]);
  const credentials = grpc.credentials.createInsecure();
  const llm = new llmCtor(address, credentials) as unknown as GrpcJsLLMService;
  const health = new healthCtor(address, credentials) as unknown as GrpcJsHealth;
  return {
    llm,
    health,
    close() {
      llm.close();
      health.close();
    },
  };
}

/** Collects a server stream, resolving with its messages or rejecting with its status error. */
export function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const messages: T[] = [];
    stream.on("data", (message: T) => messages.push(message));
    stream.on("error", reject);
    stream.on("end", () => resolve(messages));
  });
}

/** Promisified unary Chat. */
export function chat(
  client: GrpcJsLLMService,
  request: JsMessage,
  options: grpc.CallOptions = {},
  metadata = new grpc.Metadata(),
): Promise<JsMessage> {
  return new Promise((resolve, reject) => {
    client.Chat(request, metadata, options, (error, response) => (error ? reject(error) : resolve(response ?? {})));
  });
}
