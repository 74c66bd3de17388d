import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/logger.js";
import { OtlpReceiver } from "../telemetry/support/otlp-receiver.js";
import { spanKind } from "../telemetry/support/received-span.js";
import { adminKey, bearer, chatRequest, createKey, settle } from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

const lines: string[] = [];
let receiver: OtlpReceiver;
let directory: string;
let h: Harness;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  directory = mkdtempSync(join(tmpdir(), "llm-gateway-secrets-"));
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split("\n")
          .filter((l) => l !== ""),
      );
      done();
    },
  });
  h = await startHarness({
    adminKey,
    databasePath: join(directory, "gateway.db"),
    otelEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: "llm-gateway-keys",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    },
    logger: createLogger({ level: "info", destination }),
  });
});
afterAll(async () => {
  await h.emulator.close();
  await receiver.close();
  rmSync(directory, { recursive: true, force: true });
});

describe("client keys in logs, spans and the database", () => {
  it("name the key by its id and tenant, and never hold a secret or the admin key", async () => {
    const { id, secret } = await createKey(h, { tenant: "globex", name: "reports", models: [models.openai] });
    const wrongSecret = `${secret.slice(0, -4)}zzzz`;
    await h.grpc.chat({ ...chatRequest(models.openai, "hello"), metadata: { tenant: "forged" } }, bearer(secret));
    await settle(h.grpc.chat(chatRequest(models.anthropic, "hello"), bearer(secret)));
    await settle(h.grpc.chat(chatRequest(models.openai, "hello"), bearer(wrongSecret)));
    await h.gateway.close(); // flushes exporters, the ledger and the database

    const requestLines = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["msg"] === "request");
    // The admin call that created the key is logged too, without any key.
    expect(requestLines.filter((l) => l["rpc"] === "llm.v1.AdminService/CreateKey").map((l) => l["status"])).toEqual([
      "OK",
    ]);
    expect(
      requestLines
        .filter((l) => l["rpc"] === "llm.v1.LLMService/Chat")
        .map((l) => [l["keyId"], l["tenant"], l["status"]]),
    ).toEqual([
      [id, "globex", "OK"],
      [id, "globex", "PERMISSION_DENIED"],
      // The wrong secret names no key: its refusal is logged without one.
      [undefined, "", "UNAUTHENTICATED"],
    ]);
    const rpcSpans = receiver.spans.filter((s) => s.kind === spanKind.server && s.name === "llm.v1.LLMService/Chat");
    expect(
      rpcSpans.filter(
        (s) => s.attributes["llm_gateway.key_id"] === id && s.attributes["llm_gateway.tenant"] === "globex",
      ),
    ).toHaveLength(2);
    expect(lines.some((l) => l.includes("client keys are not checked"))).toBe(false);

    const database = readdirSync(directory)
      .map((file) => readFileSync(join(directory, file)).toString("latin1"))
      .join("\n");
    expect(database).toContain(id);
    const everything = `${lines.join("\n")}\n${receiver.allText()}\n${database}`;
    for (const value of [secret, secret.slice(6), wrongSecret, adminKey]) expect(everything).not.toContain(value);
  });
});
