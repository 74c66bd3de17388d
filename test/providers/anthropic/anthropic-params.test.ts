import { describe, expect, it } from "vitest";
import { anthropicParams } from "../../../src/providers/anthropic/anthropic-params.js";
import type { ChatMessage, ChatRequest } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";

const provider = "anthropic-test";

function chat(messages: ChatMessage[], options: Partial<ChatRequest> = {}): ChatRequest {
  return { model: "claude-test", messages, ...options };
}

function rejection(request: ChatRequest): ProviderError {
  try {
    anthropicParams(request, 256, provider);
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected anthropicParams to throw");
}

describe("anthropicParams", () => {
  it("sends only model, max_tokens and messages when nothing else is set", () => {
    const params = anthropicParams(chat([{ role: "user", content: "Hi" }]), 256, provider);
    expect(params).toEqual({ model: "claude-test", max_tokens: 256, messages: [{ role: "user", content: "Hi" }] });
  });

  it("gathers system messages, wherever they are, into one top-level system prompt", () => {
    const params = anthropicParams(
      chat([
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
        { role: "system", content: "Answer in French." },
        { role: "assistant", content: "Salut" },
        { role: "user", content: "Ça va ?" },
      ]),
      256,
      provider,
    );
    expect(params.system).toBe("Be brief.\n\nAnswer in French.");
    expect(params.messages).toEqual([
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Salut" },
      { role: "user", content: "Ça va ?" },
    ]);
  });

  it("merges consecutive messages of one role so that roles alternate", () => {
    const params = anthropicParams(
      chat([
        { role: "user", content: "one" },
        { role: "user", content: "two" },
        { role: "system", content: "rules" },
        { role: "user", content: "three" },
        { role: "assistant", content: "a" },
        { role: "assistant", content: "b" },
      ]),
      256,
      provider,
    );
    expect(params.messages).toEqual([
      { role: "user", content: "one\n\ntwo\n\nthree" },
      { role: "assistant", content: "a\n\nb" },
    ]);
  });

  it("maps every sampling option to its Messages API field", () => {
    const params = anthropicParams(
      chat([{ role: "user", content: "Hi" }], {
        maxTokens: 12,
        stop: ["END"],
        temperature: 0.2,
        topP: 0.9,
        user: "u-42",
      }),
      256,
      provider,
    );
    expect(params).toMatchObject({
      max_tokens: 12,
      stop_sequences: ["END"],
      temperature: 0.2,
      top_p: 0.9,
      metadata: { user_id: "u-42" },
    });
  });

  it("leaves out an empty stop list and keeps a zero temperature", () => {
    const params = anthropicParams(
      chat([{ role: "user", content: "Hi" }], { stop: [], temperature: 0 }),
      256,
      provider,
    );
    expect(params).not.toHaveProperty("stop_sequences");
    expect(params.temperature).toBe(0);
  });

  it("refuses a conversation that starts with the assistant", () => {
    const error = rejection(
      chat([
        { role: "system", content: "s" },
        { role: "assistant", content: "Hello" },
      ]),
    );
    expect(error.kind).toBe("invalid_request");
    expect(error.message).toMatch(/^anthropic-test: .*start with a user message/);
  });

  it("refuses a conversation with only system messages", () => {
    const error = rejection(chat([{ role: "system", content: "s" }]));
    expect(error.kind).toBe("invalid_request");
    expect(error.message).toContain("at least one user or assistant message");
  });

  it("refuses tool messages", () => {
    const error = rejection(
      chat([
        { role: "user", content: "Hi" },
        { role: "tool", content: "{}" },
      ]),
    );
    expect(error.kind).toBe("invalid_request");
    expect(error.message).toContain("tool");
  });
});
