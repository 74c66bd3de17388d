import { ConnectError, type ContextValues, createContextKey, type Interceptor } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../gen/llm/v1/llm_service_pb.js";
import { CallTrace } from "../providers/call-context.js";
import type { ProviderErrorKind } from "../providers/provider-error.js";
import type { RequestSummary } from "../telemetry/request-summary.js";
import { rpcSpanKey } from "../telemetry/rpc-span-key.js";
import type { Telemetry } from "../telemetry/telemetry.js";
import { callerKey } from "./auth-interceptor.js";
import { codeForKind } from "./error-codes.js";
import type { UnseenCall } from "./node-adapter.js";
import { withTail } from "./stream-tail.js";
import { requestIdKey } from "./request-id-interceptor.js";
import { gatewayNow as now } from "../telemetry/gateway-clock.js";

/** Set by the request observer once it has recorded a call (its log line, counts and spans). */
export const requestRecordedKey = createContextKey<boolean>(false, { description: "the call was recorded" });

const healthService = "grpc.health.v1.Health";

function kindOf(error: ConnectError): ProviderErrorKind | undefined {
  const kind = error.findDetails(ErrorDetailSchema)[0]?.kind;
  return kind !== undefined && Object.hasOwn(codeForKind, kind) ? (kind as ProviderErrorKind) : undefined;
}

/** What a recorded call was, whichever way it ended. */
interface CallFacts {
  service: string;
  method: string;
  methodKind: string;
  contextValues: ContextValues;
  message: unknown;
  startedAt: number;
}

/**
 * Records the calls the request observer does not (refused before the pipeline: no client key, invalid
 * requests, calls over a limit, bodies that do not decode or are too large; admin calls): one request log line
 * and one count per RPC, refused or not, with its code. Health checks are left out as everywhere else. Its
 * interceptor goes inside the request-id and telemetry interceptors (so the call has its id and span) and outside
 * the error interceptor (so it sees the mapped status); `onUnseen` takes the calls that failed before any
 * interceptor ran (from the server's adapter).
 */
export class RefusalRecorder {
  readonly #telemetry: Telemetry;

  constructor(telemetry: Telemetry) {
    this.#telemetry = telemetry;
  }

  /** Whether the call has been recorded (by the request observer or this recorder). */
  seen(values: ContextValues): boolean {
    return values.get(requestRecordedKey);
  }

  /** Records a call that ended before any interceptor ran, with the status read from the wire. */
  readonly onUnseen = (call: UnseenCall): void => {
    this.#record(
      {
        service: call.handler.service.typeName,
        method: call.handler.method.name,
        methodKind: call.handler.method.methodKind,
        contextValues: call.contextValues,
        message: undefined,
        startedAt: call.startedAt,
      },
      call.error,
    );
  };

  /** Records the calls that fail in or below it, and admin calls that succeed. */
  readonly interceptor: Interceptor = (next) => async (request) => {
    const facts: CallFacts = {
      service: request.service.typeName,
      method: request.method.name,
      methodKind: request.method.methodKind,
      contextValues: request.contextValues,
      message: request.stream ? undefined : request.message,
      startedAt: now(),
    };
    try {
      const response = await next(request);
      if (!response.stream) return response;
      const fail = (error: unknown): unknown => {
        this.#record(facts, error);
        return error;
      };
      return { ...response, message: withTail(response.message, { fail }) };
    } catch (error) {
      this.#record(facts, error);
      throw error;
    }
  };

  #record(call: CallFacts, error: unknown): void {
    const values = call.contextValues;
    if (call.service === healthService || values.get(requestRecordedKey)) return;
    values.set(requestRecordedKey, true);
    const status = error === undefined ? undefined : ConnectError.from(error);
    const key = values.get(callerKey);
    const message = call.message;
    const model =
      typeof message === "object" && message !== null && "model" in message && typeof message.model === "string"
        ? message.model.slice(0, 256)
        : "";
    const summary: RequestSummary = {
      rpc: `${call.service}/${call.method}`,
      requestId: values.get(requestIdKey) ?? "",
      model,
      clientId: "",
      keyId: key?.id ?? "",
      tenant: key?.tenant ?? "",
      code: status?.code ?? 0,
      startedAt: call.startedAt,
      endedAt: now(),
      stream: call.methodKind !== "unary",
      chunks: 0,
      costMicros: 0n,
      costUnknown: false,
      trace: new CallTrace(),
    };
    const kind = status === undefined ? undefined : kindOf(status);
    if (kind !== undefined) summary.errorKind = kind;
    this.#telemetry.recordRequest(values.get(rpcSpanKey), summary);
  }
}
