import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { pooledFetch } from "../../src/providers/pooled-fetch.js";
import { jsonHeaders, startScriptedServer } from "../support/scripted-server.js";

// Kill tests for src/providers/pooled-fetch.ts (mutation testing, see docs/testing.md).

describe("pooledFetch request headers", () => {
  it("sends a header given as a list of values as one comma-separated header", async () => {
    const server = await startScriptedServer({ status: 200, headers: jsonHeaders, body: "{}" });
    const agent = new Agent();
    try {
      const response = await pooledFetch(agent)(`${server.url}/v1/x`, {
        method: "POST",
        headers: { "X-Multi": ["a", "b"], "content-type": "application/json" },
        body: "{}",
      });
      expect(response.status).toBe(200);
      expect(server.requests[0]?.headers["x-multi"]).toBe("a, b");
    } finally {
      await agent.close();
      await server.close();
    }
  });
});
