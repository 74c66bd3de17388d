import type { IncomingHttpHeaders } from "node:http";
import type { ApiKind, Operation } from "./emulator.js";

/** Where a request goes: which API answers it and which operation, if the path is one the emulator serves. */
export interface Route {
  api: ApiKind;
  /** Undefined for a path (or method) the API does not serve: a 404 in that API's style. */
  operation: Operation | undefined;
  /** Azure: the deployment in the path; else "". */
  deployment: string;
  /** Azure: the `api-version` query parameter ("" when missing); else "". */
  apiVersion: string;
  /** The path without its query. */
  path: string;
}

const openAiPosts: ReadonlyMap<string, Operation> = new Map([
  ["/v1/chat/completions", "chat"],
  ["/v1/completions", "completion"],
  ["/v1/embeddings", "embedding"],
]);

const azureOperations: ReadonlyMap<string, Operation> = new Map([
  ["chat/completions", "chat"],
  ["completions", "completion"],
  ["embeddings", "embedding"],
]);

const azurePrefix = "/openai/deployments/";

/**
 * Routes by path, all APIs on one port: `/openai/...` is Azure (deployments and `GET /openai/models`),
 * `/v1/messages` Anthropic, `/v1/models`
 * Anthropic when the request carries `anthropic-version` (else OpenAI), the other `/v1/...` paths OpenAI.
 * An unknown path is attributed to Anthropic when it carries `anthropic-version` or `x-api-key`, else to OpenAI.
 */
export function routeRequest(method: string, url: string, headers: IncomingHttpHeaders): Route {
  const queryAt = url.indexOf("?");
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path.startsWith("/openai/")) {
    const apiVersion = queryAt === -1 ? "" : (new URLSearchParams(url.slice(queryAt + 1)).get("api-version") ?? "");
    const route: Route = { api: "azure", operation: undefined, deployment: "", apiVersion, path };
    if (path === "/openai/models") {
      if (method === "GET") route.operation = "models";
      return route;
    }
    if (method !== "POST" || !path.startsWith(azurePrefix)) return route;
    const rest = path.slice(azurePrefix.length);
    const slash = rest.indexOf("/");
    if (slash <= 0) return route;
    route.deployment = decodeSegment(rest.slice(0, slash));
    route.operation = azureOperations.get(rest.slice(slash + 1));
    return route;
  }
  const anthropicHeaders = headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined;
  if (path === "/v1/messages") {
    return {
      api: "anthropic",
      operation: method === "POST" ? "messages" : undefined,
      deployment: "",
      apiVersion: "",
      path,
    };
  }
  if (path === "/v1/models") {
    const api = headers["anthropic-version"] !== undefined ? "anthropic" : "openai";
    return { api, operation: method === "GET" ? "models" : undefined, deployment: "", apiVersion: "", path };
  }
  const operation = openAiPosts.get(path);
  if (operation !== undefined) {
    return {
      api: "openai",
      operation: method === "POST" ? operation : undefined,
      deployment: "",
      apiVersion: "",
      path,
    };
  }
  return { api: anthropicHeaders ? "anthropic" : "openai", operation: undefined, deployment: "", apiVersion: "", path };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
