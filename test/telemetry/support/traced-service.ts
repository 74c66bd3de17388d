import http2 from "node:http2";
import { Code, ConnectError, createClient, type Client, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { LLMService, Role } from "../../../gen/llm/v1/llm_service_pb.js";
import { CallTrace, type PipelineEvent, type ServedBy } from "../../../src/providers/call-context.js";
import type { ProviderErrorKind } from "../../../src/providers/provider-error.js";
import type { TokenUsage } from "../../../src/providers/provider.js";
import { errorInterceptor } from "../../../src/server/error-interceptor.js";
import type { RequestContent, RequestSummary } from "../../../src/telemetry/request-summary.js";
import { rpcSpanKey } from "../../../src/telemetry/rpc-span-key.js";
import type { Telemetry } from "../../../src/telemetry/telemetry.js";

/** What a test request (named by its `model`) made the pipeline do, with times relative to the request start. */
export interface Scenario {
  events: (start: number) => PipelineEvent[];
  servedBy?: ServedBy;
  usage?: TokenUsage;
  costMicros?: bigint;
  /** Stream deltas (streams) or the answer text (unary). */
  output: string[];
  /** Milliseconds after the start when the first delta went out (streams). */
  firstChunkAfterMs?: number;
  /** The failure the request ends with. */
  failure?: { code: Code; kind: ProviderErrorKind };
  /** Milliseconds the whole request took. */
  durationMs: number;
}

/** A connect-node gRPC server whose LLMService replays scenarios and reports them to telemetry. */
export interface TracedService {
  client: Client<typeof LLMService>;
  health: Client<typeof Health>;
  /** What handlers saw under `rpcSpanKey`, per request, in order. */
  spansSeen: { recording: boolean; traceId: string }[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP/2 server with the telemetry interceptor in front of the gateway's error interceptor, as the
 * gateway wires them, and an LLMService (Chat, StreamChat) whose handlers build the scenario's CallTrace and
 * call `telemetry.recordRequest` at the end of the request, as the gateway's handlers will.
 */
export async function startTracedService(telemetry: Telemetry, scenarios: Record<string, Scenario>): Promise<TracedService> {
  const spansSeen: TracedService["spansSeen"] = [];
  const scenarioOf = (model: string): Scenario => {
    const scenario = scenarios[model];
    if (scenario === undefined) throw new ConnectError(`no scenario ${model}`, Code.NotFound);
    return scenario;
  };
  const summarize = (
    rpc: string,
    context: HandlerContext,
    request: { model: string; metadata: Record<string, string> },
    scenario: Scenario,
    start: number,
    content: RequestContent,
  ): RequestSummary => {
    const trace = new CallTrace();
    for (const event of scenario.events(start)) trace.record(event);
    trace.servedBy = scenario.servedBy;
    const stream = scenario.firstChunkAfterMs !== undefined;
    return {
      rpc,
      requestId: `req-${request.model}`,
      model: request.model,
      clientId: context.requestHeader.get("x-client-id") ?? "",
      keyId: "",
      tenant: request.metadata["tenant"] ?? "",
      code: scenario.failure?.code ?? 0,
      ...(scenario.failure === undefined ? {} : { errorKind: scenario.failure.kind }),
      startedAt: start,
      endedAt: start + scenario.durationMs,
      stream,
      ...(stream ? { firstChunkAt: start + (scenario.firstChunkAfterMs ?? 0) } : {}),
      chunks: stream ? scenario.output.length : 0,
      ...(scenario.usage === undefined ? {} : { usage: scenario.usage }),
      costMicros: scenario.costMicros ?? 0n,
      costUnknown: scenario.costMicros === undefined,
      trace,
      content,
    };
  };
  const record = (context: HandlerContext, summary: RequestSummary): void => {
    const span = context.values.get(rpcSpanKey);
    spansSeen.push({ recording: span.isRecording(), traceId: span.spanContext().traceId });
    telemetry.recordRequest(span, summary);
  };
  const fail = (scenario: Scenario): void => {
    if (scenario.failure !== undefined) throw new ConnectError(`scenario failed: ${scenario.failure.kind}`, scenario.failure.code);
  };
  const handler = connectNodeAdapter({
    interceptors: [telemetry.interceptor, errorInterceptor],
    routes: (router) => {
      router.service(Health, { check: () => ({ status: HealthCheckResponse_ServingStatus.SERVING }) });
      router.service(LLMService, {
        chat(request, context) {
          const scenario = scenarioOf(request.model);
          const start = Date.now() - scenario.durationMs;
          const input = request.messages.map((m) => ({ role: m.role === Role.USER ? "user" : "system", content: m.content }));
          try {
            fail(scenario);
            return { id: "chat-1", message: { role: Role.ASSISTANT, content: scenario.output.join("") } };
          } finally {
            record(context, summarize("llm.v1.LLMService/Chat", context, request, scenario, start, { input, output: scenario.output.join("") }));
          }
        },
        async *streamChat(request, context) {
          const scenario = scenarioOf(request.model);
          const start = Date.now() - scenario.durationMs;
          const input = request.messages.map((m) => ({ role: "user", content: m.content }));
          try {
            for (const delta of scenario.output) yield { delta };
            fail(scenario);
          } finally {
            record(context, summarize("llm.v1.LLMService/StreamChat", context, request, scenario, start, { input, output: scenario.output.join("") }));
          }
        },
      });
    },
  });
  const server = http2.createServer(handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("server is not listening");
  const transport = createGrpcTransport({ baseUrl: `http://127.0.0.1:${address.port}` });
  return {
    client: createClient(LLMService, transport),
    health: createClient(Health, transport),
    spansSeen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}
