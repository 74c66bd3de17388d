import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import { Code, type ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { failure } from "../support/call-failure.js";
import { adminKey, bearer, createKey } from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

/**
 * README, Observability: "every response carries `x-request-id`": every RPC of every service, answered or
 * refused, with one UUIDv7 per call; for generation calls the same id the request log line and the usage
 * ledger use.
 */

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const hello = [{ role: Role.USER, content: "Say hello" }];

let h: Harness;
let directory: string;
let secret: string;
const lines: Record<string, unknown>[] = [];
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "llm-gateway-request-id-"));
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  h = await startHarness({
    adminKey,
    databasePath: join(directory, "gateway.db"),
    logger: createLogger({ level: "info", destination }),
  });
  secret = (await createKey(h)).secret;
});
afterAll(async () => {
  await h.close();
  rmSync(directory, { recursive: true, force: true });
});

/** Runs a call, returning the x-request-id of its response header. */
async function headerId(call: (onHeader: (header: Headers) => void) => Promise<unknown>): Promise<string | null> {
  let id: string | null = null;
  await call((header) => (id = header.get("x-request-id")));
  return id;
}

/** The x-request-id of a failed call: its error metadata (headers and trailers as the client received them). */
const errorId = (error: ConnectError): string | null => error.metadata.get("x-request-id");

describe("x-request-id on every response (README: Observability)", () => {
  it("answers of every service carry a UUIDv7, a new one per call: ListModels, ListProviders, health Check and Watch, AdminService", async () => {
    const health = createClient(Health, createGrpcTransport({ baseUrl: h.gateway.url }));
    const ids = [
      await headerId((onHeader) => h.grpc.listModels({}, { ...bearer(secret), onHeader })),
      await headerId((onHeader) => h.connectJson.listProviders({}, { ...bearer(secret), onHeader })),
      await headerId((onHeader) => health.check({ service: "" }, { onHeader })),
      await headerId(async (onHeader) => {
        for await (const status of health.watch({ service: "" }, { onHeader })) {
          void status;
          break;
        }
      }),
      await headerId((onHeader) => h.admin.listKeys({}, { ...bearer(adminKey), onHeader })),
    ];
    for (const id of ids) expect(id).toMatch(uuidV7);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("calls refused as unauthenticated carry it in the error metadata: LLMService and AdminService, gRPC and Connect", async () => {
    const refused = [
      await failure(() => h.grpc.chat({ model: models.openai, messages: hello })),
      await failure(async () => {
        for await (const chunk of h.grpcWeb.streamChat({ model: models.openai, messages: hello })) void chunk;
      }),
      await failure(() => h.connectJson.listModels({}, bearer("llmgw_not-a-key"))),
      await failure(() => h.admin.listKeys({}, bearer("not-the-admin-key"))),
    ];
    for (const error of refused) {
      expect(error.code).toBe(Code.Unauthenticated);
      expect(errorId(error)).toMatch(uuidV7);
    }
    // Plain HTTP: the Connect protocol's error answer has it as a response header.
    const response = await fetch(`${h.gateway.url}/llm.v1.LLMService/Chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: models.openai, messages: [{ role: "ROLE_USER", content: "hi" }] }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("x-request-id")).toMatch(uuidV7);
  });

  it("calls refused as invalid carry it once, unary and streaming", async () => {
    const refused = [
      await failure(() => h.grpc.chat({ model: models.openai, messages: [] }, bearer(secret))),
      await failure(async () => {
        for await (const chunk of h.grpc.streamChat({ model: "", messages: hello }, bearer(secret))) void chunk;
      }),
      await failure(() => h.connectJson.embed({ model: models.embed, inputs: [] }, bearer(secret))),
    ];
    for (const error of refused) {
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.findDetails(ErrorDetailSchema)[0]?.kind).toBe("invalid_request");
      // One id: a client joins header and trailer values, so a second copy would read "id, id".
      expect(errorId(error)).toMatch(uuidV7);
    }
  });

  it("a generation call's id is the one of its request log line and its usage ledger row, answered or failed", async () => {
    const answered = await headerId((onHeader) =>
      h.grpc.chat({ model: models.openai, messages: hello }, { ...bearer(secret), onHeader }),
    );
    const streamed = await headerId(async (onHeader) => {
      for await (const chunk of h.grpcWeb.streamChat(
        { model: models.anthropic, messages: hello },
        { ...bearer(secret), onHeader },
      ))
        void chunk;
    });
    const failed = errorId(
      await failure(() => h.grpc.chat({ model: models.wrongKey, messages: hello }, bearer(secret))),
    );
    const ids = [answered, streamed, failed];
    for (const id of ids) expect(id).toMatch(uuidV7);

    await h.gateway.close(); // flushes the ledger
    // Earlier tests' refused calls have their own lines; these three calls have one each.
    const requestLines = lines.filter((line) => line["msg"] === "request" && ids.includes(String(line["requestId"])));
    expect(requestLines.map((line) => [line["requestId"], line["status"]])).toEqual([
      [answered, "OK"],
      [streamed, "OK"],
      [failed, "INTERNAL"],
    ]);
    const db = new Database(join(directory, "gateway.db"), { readonly: true });
    try {
      const rows = db.prepare("SELECT id FROM requests ORDER BY id").all() as { id: string }[];
      expect(rows.map((row) => row.id)).toEqual([...ids].sort());
    } finally {
      db.close();
    }
  });
});
