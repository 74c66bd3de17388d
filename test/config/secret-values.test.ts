import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { parseConfigObject } from "../../src/config/load-config.js";

describe("values that may hold credentials besides the keys", () => {
  it("keeps a Redis URL with a password and extra header values as Secrets: redacted in dumps, revealed where used", () => {
    const config = parseConfigObject(
      {
        pipeline: { rateLimiting: { store: "redis", redisUrl: "redis://:hunter2-redis@redis:6379" } },
        providers: [
          {
            name: "openai",
            type: "openai",
            apiKey: "${KEY}",
            headers: { "x-portal-token": "tok-${TEAM_TOKEN}" },
          },
        ],
        models: [{ name: "m", targets: [{ provider: "openai", model: "gpt-4o" }] }],
      },
      { env: { KEY: "sk-x", TEAM_TOKEN: "s3cr3t-team" } },
    );
    const dump = `${JSON.stringify(config)}\n${inspect(config, { depth: 10 })}`;
    expect(dump).not.toContain("hunter2-redis");
    expect(dump).not.toContain("s3cr3t-team");
    expect(config.pipeline.rateLimiting.redisUrl?.reveal()).toBe("redis://:hunter2-redis@redis:6379");
    expect(config.providers[0]?.headers["x-portal-token"]?.reveal()).toBe("tok-s3cr3t-team");
  });
});
