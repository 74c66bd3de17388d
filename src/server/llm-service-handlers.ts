import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import {
  LLMService,
  Role,
  type StreamChatResponseSchema,
  type StreamCompleteResponseSchema,
} from "../../gen/llm/v1/llm_service_pb.js";
import type { ProviderRuntime } from "../pipeline/compose-pipeline.js";
import type { Gateway, GatewayCall, GatewayStreamPart } from "../pipeline/gateway.js";
import { CallTrace } from "../providers/call-context.js";
import { callerKey } from "./auth-interceptor.js";
import { newRequestId } from "./request-id.js";
import { requestIdKey } from "./request-id-interceptor.js";
import type { RequestObserver } from "./request-observer.js";
import {
  checkClientId,
  checkMetadata,
  checkUser,
  requireModel,
  toChatMessages,
  toDimensions,
  toEmbedInputs,
  toGenerationOptions,
} from "./request-validation.js";
import { toWireFinishReason, toWireMetadata, toWireProviderStatus, toWireUsage } from "./wire-conversions.js";

const service = LLMService.typeName;

/** What the LLMService handlers serve from. */
export interface LLMServiceDeps {
  gateway: Gateway;
  /** Live provider state, for ListProviders. */
  providers: readonly ProviderRuntime[];
  /** The request header carrying the caller's identity while key checking is off. */
  clientHeader: string;
  /** Reports each finished request to telemetry. */
  observer: RequestObserver;
}

/**
 * The call context the gateway needs, from the RPC's context: the client's deadline (from grpc-timeout or
 * connect-timeout-ms), its identity, its tags. With key checking on, the client key authenticated by
 * authInterceptor is the identity (its id for per-client limits, its tenant for billing), and neither the
 * client header nor the `tenant` metadata entry is trusted. The request id is the one requestIdInterceptor gave
 * the call and returns in `x-request-id` (a fresh one only when that interceptor is not installed).
 */
function gatewayCall(context: HandlerContext, metadata: Record<string, string>, clientHeader: string): GatewayCall {
  const requestId = context.values.get(requestIdKey) ?? newRequestId();
  const remainingMs = context.timeoutMs();
  const key = context.values.get(callerKey);
  return {
    requestId,
    signal: context.signal,
    metadata,
    deadline: remainingMs === undefined ? undefined : Date.now() + remainingMs,
    clientId: key === undefined ? checkClientId(context.requestHeader.get(clientHeader) ?? "", clientHeader) : key.id,
    caller:
      key === undefined
        ? { keyId: "", tenant: metadata["tenant"] ?? "", key }
        : { keyId: key.id, tenant: key.tenant, key },
    trace: new CallTrace(),
  };
}

type StreamMessage = MessageInitShape<typeof StreamChatResponseSchema> &
  MessageInitShape<typeof StreamCompleteResponseSchema>;

function toWireStreamMessage(part: GatewayStreamPart): StreamMessage {
  return part.type === "delta"
    ? { delta: part.text }
    : {
        id: part.id,
        finishReason: toWireFinishReason(part.finishReason),
        usage: toWireUsage(part.usage, part.metadata),
        metadata: toWireMetadata(part.metadata),
      };
}

/**
 * Registers LLMService: each handler only converts the wire request into domain types (rejecting bad
 * input with INVALID_ARGUMENT), calls the gateway under the request observer, and converts the answer back.
 */
export function registerLLMService(
  router: ConnectRouter,
  { gateway, providers, clientHeader, observer }: LLMServiceDeps,
): void {
  const observed = (
    rpc: string,
    model: string,
    context: HandlerContext,
    metadata: Record<string, string>,
    input?: { role: string; content: string }[],
  ) => ({
    rpc: `${service}/${rpc}`,
    model,
    context,
    call: gatewayCall(context, checkMetadata(metadata), clientHeader),
    ...(observer.recordContent && input ? { input } : {}),
  });

  router.service(LLMService, {
    async chat(request, context) {
      const model = requireModel(request.model);
      const messages = toChatMessages(request.messages);
      const options = toGenerationOptions(request.options);
      const o = observed("Chat", model, context, request.metadata, messages);
      const result = await observer.unary(
        o,
        () => gateway.chat(model, { ...options, messages }, o.call),
        (r) => r.text,
      );
      return {
        id: result.id,
        message: { role: Role.ASSISTANT, content: result.text },
        finishReason: toWireFinishReason(result.finishReason),
        usage: toWireUsage(result.usage, result.metadata),
        metadata: toWireMetadata(result.metadata),
      };
    },

    // The streaming handlers return the gateway's stream itself, the observer relaying it in place (no
    // generator of their own around it): a request they reject throws before any message, which connect-es
    // treats like an error at the first one.
    streamChat(request, context) {
      const model = requireModel(request.model);
      const messages = toChatMessages(request.messages);
      const options = toGenerationOptions(request.options);
      const o = observed("StreamChat", model, context, request.metadata, messages);
      return gateway.streamChat(model, { ...options, messages }, o.call, observer.relay(o, toWireStreamMessage));
    },

    async complete(request, context) {
      const model = requireModel(request.model);
      const options = toGenerationOptions(request.options);
      const o = observed("Complete", model, context, request.metadata, [{ role: "user", content: request.prompt }]);
      const result = await observer.unary(
        o,
        () => gateway.complete(model, { ...options, prompt: request.prompt }, o.call),
        (r) => r.text,
      );
      return {
        id: result.id,
        text: result.text,
        finishReason: toWireFinishReason(result.finishReason),
        usage: toWireUsage(result.usage, result.metadata),
        metadata: toWireMetadata(result.metadata),
      };
    },

    streamComplete(request, context) {
      const model = requireModel(request.model);
      const options = toGenerationOptions(request.options);
      const o = observed("StreamComplete", model, context, request.metadata, [
        { role: "user", content: request.prompt },
      ]);
      return gateway.streamComplete(
        model,
        { ...options, prompt: request.prompt },
        o.call,
        observer.relay(o, toWireStreamMessage),
      );
    },

    async embed(request, context) {
      const model = requireModel(request.model);
      const inputs = toEmbedInputs(request.inputs);
      const dimensions = toDimensions(request.dimensions);
      const embedRequest = {
        inputs,
        ...(dimensions === undefined ? {} : { dimensions }),
        ...(request.user === "" ? {} : { user: checkUser(request.user) }),
      };
      const o = observed("Embed", model, context, request.metadata);
      const result = await observer.unary(o, () => gateway.embed(model, embedRequest, o.call));
      return {
        embeddings: result.embeddings.map((values, index) => ({ index, values })),
        usage: toWireUsage(result.usage, result.metadata),
        metadata: toWireMetadata(result.metadata),
      };
    },

    listModels() {
      return {
        models: [...gateway.router.routes()].map((route) => ({
          name: route.name,
          targets: route.targets.map((t) => ({ provider: t.provider, model: t.model, providerType: t.providerType })),
        })),
      };
    },

    async listProviders() {
      return { providers: await Promise.all(providers.map(toWireProviderStatus)) };
    },
  });
}
