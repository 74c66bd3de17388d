import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import { grpcJsClients } from "../support/grpc-js-client.js";
import { startHarness, type Harness } from "../support/gateway-harness.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

function check(js: ReturnType<typeof grpcJsClients>, service: string): Promise<{ status?: string; code?: number }> {
  return new Promise((resolve) => {
    js.health.Check({ service }, (error, response) =>
      resolve(error ? { code: error.code } : { status: response?.status ?? "" }),
    );
  });
}

describe("grpc.health.v1.Health", () => {
  it("answers Check for the server and for LLMService to a stock grpc-js client", async () => {
    const js = grpcJsClients(`127.0.0.1:${h.gateway.port}`);
    try {
      expect(await check(js, "")).toEqual({ status: "SERVING" });
      expect(await check(js, "llm.v1.LLMService")).toEqual({ status: "SERVING" });
      expect(await check(js, "no.such.Service")).toEqual({ code: 5 });
    } finally {
      js.close();
    }
  });

  it("lists every status", async () => {
    const client = createClient(Health, createGrpcTransport({ baseUrl: h.gateway.url }));
    const list = await client.list({});
    expect(Object.fromEntries(Object.entries(list.statuses).map(([k, v]) => [k, v.status]))).toEqual({
      "": Status.SERVING,
      "llm.v1.LLMService": Status.SERVING,
      "llm.v1.AdminService": Status.SERVING,
      openai: Status.SERVING,
      "azure-east": Status.SERVING,
      claude: Status.SERVING,
      vllm: Status.SERVING,
      "openai-misconfigured": Status.SERVING,
    });
  });

  it("Watch reports NOT_SERVING when the gateway starts shutting down", async () => {
    const own = await startHarness();
    const client = createClient(Health, createGrpcTransport({ baseUrl: own.gateway.url }));
    const seen: Status[] = [];
    let closing: Promise<void> | undefined;
    try {
      for await (const update of client.watch({ service: "" })) {
        seen.push(update.status);
        if (update.status === Status.SERVING) closing = own.close();
        if (update.status === Status.NOT_SERVING) break;
      }
    } catch {
      // The server ends the stream when its grace period is over.
    }
    await closing;
    expect(seen).toEqual([Status.SERVING, Status.NOT_SERVING]);
  });
});
