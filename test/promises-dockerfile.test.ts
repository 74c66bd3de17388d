import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";
import { loadConfigFile } from "../src/config/load-config.js";
import { startHarness, type Harness } from "./support/gateway-harness.js";

/**
 * README, "Running it": "The image runs as a non-root user and has a HEALTHCHECK that calls
 * `grpc.health.v1.Health/Check`". There is no container engine here, so the image is not built: this checks
 * the Dockerfile's runtime stage as text and runs its HEALTHCHECK command, as the engine would, against a real
 * gateway.
 */

const dockerfile = readFileSync(fileURLToPath(new URL("../Dockerfile", import.meta.url)), "utf8");
const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
/** The script of the HEALTHCHECK's command, `CMD node -e "<script>"` on the line after `HEALTHCHECK ... \`. */
const healthcheck = /^HEALTHCHECK [^\n]*\\\n\s*CMD node -e "([^"]+)"$/m.exec(runtimeStage)?.[1];

/** Runs the HEALTHCHECK command with HEALTHCHECK_PORT set; resolves with its exit code. */
function runHealthcheck(port: number): Promise<number> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["-e", healthcheck ?? "process.exit(99)"],
      { env: { HEALTHCHECK_PORT: String(port) }, timeout: 10_000 },
      (error) => resolve(error === null ? 0 : typeof error.code === "number" ? error.code : -1),
    );
  });
}

describe("the Dockerfile's runtime stage", () => {
  it("runs as the non-root node user and keeps its data on a volume", () => {
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(runtimeStage).toMatch(/^VOLUME \/var\/lib\/llm-gateway$/m);
    expect(runtimeStage).toMatch(/^ENTRYPOINT \["node", "bin\/llm-gateway.js"\]$/m);
  });

  it("has a HEALTHCHECK that calls grpc.health.v1.Health/Check", () => {
    expect(healthcheck).toContain("/grpc.health.v1.Health/Check");
  });

  it("keeps the Jaeger compose gateway's ledger on its volume (the node user cannot write /app)", () => {
    const compose = readFileSync(fileURLToPath(new URL("../deploy/jaeger/compose.yaml", import.meta.url)), "utf8");
    expect(compose).toContain("- ./gateway.yaml:/etc/llm-gateway/config.yaml:ro");
    const volume = /^VOLUME (\S+)$/m.exec(runtimeStage)?.[1];
    const config = loadConfigFile(fileURLToPath(new URL("../deploy/jaeger/gateway.yaml", import.meta.url)), {
      EMULATOR_KEY: "sk-emulator-local",
    });
    expect(volume).toBe("/var/lib/llm-gateway");
    expect(config.storage.sqlite.path.startsWith(`${volume}/`)).toBe(true);
  });
});

describe("the HEALTHCHECK command against a gateway", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it("passes (exit 0) while the gateway serves", async () => {
    expect(await runHealthcheck(h.gateway.port)).toBe(0);
  });

  it("fails (exit 1) when the server reports NOT_SERVING, and when nothing listens", async () => {
    h.gateway.health.set("", Status.NOT_SERVING);
    try {
      expect(await runHealthcheck(h.gateway.port)).toBe(1);
    } finally {
      h.gateway.health.set("", Status.SERVING);
    }
    expect(await runHealthcheck(1)).toBe(1);
  });
});
