import { Writable } from "node:stream";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/logger.js";
import { bearer, chatRequest, settle } from "../support/cost-control-helpers.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

const lines: string[] = [];
let h: Harness;
beforeAll(async () => {
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
  h = await startHarness({ logger: createLogger({ level: "info", destination }) });
});
afterAll(() => h.close());

describe("a gateway without an auth section", () => {
  it("serves calls without a key, warns at start-up that it is open, and refuses the admin API", async () => {
    expect(h.gateway.keysRequired).toBe(false);
    const warning = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.msg.includes("client keys are not checked"));
    expect(warning?.level).toBe(40);
    const answer = await h.grpc.chat({ ...chatRequest(models.openai, "open"), metadata: { tenant: "acme" } });
    expect(answer.message?.content).toBe("Echo: open");
    const admin = await settle(h.admin.listKeys({}, bearer("anything")));
    expect("error" in admin && admin.error.code).toBe(Code.FailedPrecondition);
    const request = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l["msg"] === "request");
    expect(request).toMatchObject({ tenant: "acme", status: "OK" });
  });
});
