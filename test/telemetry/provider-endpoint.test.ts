import { describe, expect, it } from "vitest";
import { providerEndpoint } from "../../src/telemetry/provider-endpoint.js";

describe("providerEndpoint", () => {
  it("takes host and port from baseUrl, or the vendor's API host", () => {
    expect(providerEndpoint({ type: "openai" })).toEqual({ address: "api.openai.com", port: 443 });
    expect(providerEndpoint({ type: "anthropic" })).toEqual({ address: "api.anthropic.com", port: 443 });
    expect(providerEndpoint({ type: "openai-compatible", baseUrl: "http://10.0.0.5:8000/v1" })).toEqual({
      address: "10.0.0.5",
      port: 8000,
    });
    expect(providerEndpoint({ type: "azure", baseUrl: "https://east.openai.azure.com" })).toEqual({
      address: "east.openai.azure.com",
      port: 443,
    });
    expect(providerEndpoint({ type: "openai-compatible" })).toBeUndefined();
  });
});
