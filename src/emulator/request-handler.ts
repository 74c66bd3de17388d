import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { anthropicApi } from "./anthropic-api.js";
import type { EmulatedRequest, EmulatorRecord } from "./emulator.js";
import { errorBodies, type Problem } from "./error-bodies.js";
import { Exchange, type ExchangeHost } from "./exchange.js";
import { parseFault, type Fault } from "./fault.js";
import { isRecord } from "./is-record.js";
import { modelLists } from "./model-lists.js";
import { openAiApi } from "./openai-api.js";
import { openAiEmbeddings } from "./openai-embeddings.js";
import type { OperationContext } from "./operation-context.js";
import { requestIds } from "./request-ids.js";
import { responseHeaders, jsonContentType } from "./response-headers.js";
import { routeRequest, type Route } from "./request-router.js";

/** What the request pipeline needs from the emulator. */
export interface RequestHost extends ExchangeHost {
  readonly apiKey: string | undefined;
  readonly chunkDelayMs: number;
  /** The per-run fault for this request, if any. */
  runFault(request: EmulatedRequest): Fault | undefined;
  addRecord(record: EmulatorRecord): void;
}

/**
 * The request pipeline: route, read and parse the body, record the exchange, resolve the fault (the
 * `x-emulator-fault` header wins over the per-run fault), hang or wait as it says, then check in this order
 * api-version (Azure), the key, anthropic-version, the JSON, the injected error status; then the API answers.
 * Unknown paths get the API's 404 and are not recorded.
 */
export async function handleRequest(host: RequestHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? "/";
  const route = routeRequest(req.method ?? "GET", url, req.headers);
  const raw = await readBody(req);
  if (raw === undefined || res.destroyed) return;
  if (route.operation === undefined) {
    sendNotFound(host, route, req.method ?? "GET", res);
    return;
  }
  let body: unknown;
  let badJson = false;
  if (route.operation !== "models") {
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      badJson = true;
    }
  }
  const request: EmulatedRequest = {
    api: route.api,
    operation: route.operation,
    model:
      route.api === "azure" ? route.deployment : isRecord(body) && typeof body.model === "string" ? body.model : "",
    stream: isRecord(body) && body.stream === true,
    path: url,
    headers: req.headers,
    body,
  };
  const exchange = new Exchange(host, request, res, route.deployment, route.apiVersion);
  host.addRecord(exchange.record);

  const header = req.headers["x-emulator-fault"];
  let fault: Fault;
  if (header === undefined) {
    fault = host.runFault(request) ?? {};
  } else {
    try {
      fault = parseFault(Array.isArray(header) ? header.join(";") : header);
    } catch (error: unknown) {
      exchange.sendProblem({
        kind: "bad_fault_header",
        message: error instanceof Error ? error.message : String(error),
      });
      return;
    }
  }
  exchange.useFault(fault);
  if (fault.hang === true) return;
  if (fault.latencyMs !== undefined && fault.latencyMs > 0 && !(await exchange.wait(fault.latencyMs))) return;

  const problem = gateProblem(host, route, req.headers, badJson, fault);
  if (problem !== undefined) {
    exchange.sendProblem(problem);
    return;
  }
  const context: OperationContext = {
    exchange,
    fault,
    contextWindow: host.contextWindow,
    chunkDelayMs: host.chunkDelayMs,
  };
  try {
    dispatch(context);
  } catch {
    if (!res.headersSent) exchange.sendProblem({ kind: "fault", status: 500, errorCode: undefined });
    else res.destroy();
  }
}

function dispatch(context: OperationContext): void {
  const { exchange } = context;
  switch (exchange.request.operation) {
    case "chat":
      return openAiApi.chat(context);
    case "completion":
      return openAiApi.completion(context);
    case "embedding":
      return openAiEmbeddings(context);
    case "messages":
      return anthropicApi.messages(context);
    case "models":
      if (exchange.request.api === "anthropic") return anthropicApi.models(context);
      if (exchange.admit(0))
        exchange.sendJson(200, exchange.request.api === "azure" ? modelLists.azure() : modelLists.openAi());
      return;
  }
}

/** The first reason, before the API looks at the request, to refuse it. */
function gateProblem(
  host: RequestHost,
  route: Route,
  headers: IncomingHttpHeaders,
  badJson: boolean,
  fault: Fault,
): Problem | undefined {
  if (route.api === "azure" && route.apiVersion === "") return { kind: "missing_api_version" };
  const key = requestKey(route, headers);
  if (key === undefined || key === "") return { kind: "missing_key" };
  if (host.apiKey !== undefined && key !== host.apiKey) return { kind: "invalid_key", key };
  if (route.api === "anthropic" && !headers["anthropic-version"]) return { kind: "missing_version_header" };
  if (badJson) return { kind: "bad_json" };
  const status = faultStatus(fault, route);
  return status === undefined ? undefined : { kind: "fault", status, errorCode: fault.errorCode };
}

/** The injected error status: the fault's own, or the one its error code implies. */
function faultStatus(fault: Fault, route: Route): number | undefined {
  if (fault.status !== undefined) return fault.status >= 400 ? fault.status : undefined;
  if (fault.errorCode === "insufficient_quota") return route.api === "anthropic" ? 400 : 429;
  if (fault.errorCode === "context_length_exceeded") return 400;
  return undefined;
}

/**
 * The key the request authenticates with: OpenAI Bearer; Azure `api-key` or Bearer (Entra ID); Anthropic
 * `x-api-key` or Bearer (what @anthropic-ai/sdk 1.x sends for an apiKey).
 */
function requestKey(route: Route, headers: IncomingHttpHeaders): string | undefined {
  const ownHeader = route.api === "anthropic" ? "x-api-key" : route.api === "azure" ? "api-key" : undefined;
  if (ownHeader !== undefined) {
    const key = headerValue(headers[ownHeader]);
    if (key !== undefined) return key;
  }
  const authorization = headers.authorization;
  if (authorization === undefined || authorization.length < 7 || authorization.slice(0, 7).toLowerCase() !== "bearer ")
    return undefined;
  return authorization.slice(7).trim();
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function sendNotFound(host: RequestHost, route: Route, method: string, res: ServerResponse): void {
  const requestId =
    route.api === "openai" ? requestIds.openAi() : route.api === "azure" ? requestIds.azure() : requestIds.anthropic();
  const now = Date.now();
  const { status, body } = errorBodies(
    route.api,
    { kind: "unknown_path", method, path: route.path },
    { model: "", operation: "models", requestId, contextWindow: host.contextWindow, apiVersion: route.apiVersion },
  );
  const payload = JSON.stringify(body);
  const headers = responseHeaders({
    api: route.api,
    status,
    contentType: jsonContentType,
    requestId,
    rate: host.limiter(route.api).snapshot(now),
    now,
    startedAt: now,
    deployment: route.deployment,
  });
  headers["content-length"] = Buffer.byteLength(payload);
  res.writeHead(status, headers);
  res.end(payload);
}

/** The whole request body, or undefined when the client went away first. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("end", () => resolve(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)));
    req.once("error", () => resolve(undefined));
    req.once("close", () => resolve(undefined));
  });
}
