import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLMService, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { parseConfigObject } from "../../src/config/load-config.js";
import { telemetryEnv } from "../../src/config/telemetry-env.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { startGateway, type RunningGateway } from "../../src/main.js";

/** server.tls: TLS and mutual TLS on the one port, for gRPC (h2) and Connect over HTTP/1.1 alike. */

const fixtures = fileURLToPath(new URL("../fixtures/tls/", import.meta.url));
const pem = (name: string): string => readFileSync(`${fixtures}${name}`, "utf8");
const providerKey = "sk-tls-test-provider";
let emulator: Emulator;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: providerKey });
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await emulator.close();
});

async function gatewayWith(tls: Record<string, string>): Promise<RunningGateway> {
  const config = parseConfigObject(
    {
      server: { host: "127.0.0.1", port: 0, tls },
      logging: { level: "silent" },
      storage: { sqlite: { path: ":memory:" } },
      providers: [{ name: "openai", type: "openai", apiKey: "${KEY}", baseUrl: `${emulator.url}/v1` }],
      models: [{ name: "gpt-4o", targets: [{ provider: "openai", model: "gpt-4o" }] }],
    },
    { env: { KEY: providerKey }, baseDir: fixtures },
  );
  const gateway = await startGateway(config, undefined, telemetryEnv({}));
  gateways.push(gateway);
  return gateway;
}

const request = { model: "gpt-4o", messages: [{ role: Role.USER, content: "hello over tls" }] };

function transports(baseUrl: string, client?: { cert: string; key: string }) {
  const nodeOptions = { ca: pem("ca.crt"), ...(client ?? {}) };
  return {
    "gRPC over HTTP/2": createGrpcTransport({ baseUrl, nodeOptions }),
    "Connect over HTTP/1.1": createConnectTransport({ baseUrl, httpVersion: "1.1", nodeOptions }),
  };
}

describe("TLS", () => {
  it("serves gRPC and Connect over TLS, at an https URL", async () => {
    const gateway = await gatewayWith({ certificate: "file:server.crt", privateKey: "file:server.key" });
    expect(gateway.url.startsWith("https://")).toBe(true);
    for (const [name, transport] of Object.entries(transports(gateway.url))) {
      const answer = await createClient(LLMService, transport).chat(request);
      expect(answer.message?.content, name).toContain("hello over tls");
    }
  });

  it("refuses a literal key in the config: TLS material is a file: or ${ENV} reference", () => {
    expect(() =>
      parseConfigObject(
        {
          server: { tls: { certificate: "file:server.crt", privateKey: "-----BEGIN PRIVATE KEY-----" } },
          providers: [{ name: "openai", type: "openai", apiKey: "${KEY}" }],
          models: [{ name: "m", targets: [{ provider: "openai", model: "gpt-4o" }] }],
        },
        { env: { KEY: "k" }, baseDir: fixtures },
      ),
    ).toThrow(/server\.tls\.privateKey/);
  });
});

describe("mutual TLS (clientCa)", () => {
  let url = "";
  beforeAll(async () => {
    const gateway = await gatewayWith({
      certificate: "file:server.crt",
      privateKey: "file:server.key",
      clientCa: "file:ca.crt",
    });
    url = gateway.url;
  });

  it("serves clients whose certificate the CA signed", async () => {
    const client = { cert: pem("client.crt"), key: pem("client.key") };
    for (const [name, transport] of Object.entries(transports(url, client))) {
      const answer = await createClient(LLMService, transport).chat(request);
      expect(answer.message?.content, name).toContain("hello over tls");
    }
  });

  it.each([
    ["no certificate", undefined],
    ["a certificate from another CA", { cert: pem("stranger.crt"), key: pem("stranger.key") }],
  ])("refuses a client with %s", async (_what, client) => {
    for (const [name, transport] of Object.entries(transports(url, client))) {
      const failure = await createClient(LLMService, transport)
        .chat(request, { timeoutMs: 5_000 })
        .then(
          () => undefined,
          (error: unknown) => ConnectError.from(error),
        );
      expect(failure, name).toBeDefined();
      expect([Code.Unavailable, Code.Unknown, Code.Internal, Code.Canceled, Code.Aborted], name).toContain(
        failure?.code,
      );
    }
  });
});
