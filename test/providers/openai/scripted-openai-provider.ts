import { afterEach } from "vitest";
import { createOpenAIProvider } from "../../../src/providers/openai/create-openai-provider.js";
import type { Provider } from "../../../src/providers/provider.js";
import { startScriptedServer, type ScriptedResponse, type ScriptedServer } from "../../support/scripted-server.js";
import { openAITestConfig } from "./openai-test-config.js";

/** The chat request the scripted-answer tests send. */
export const chatRequest = { model: "gpt-test", messages: [{ role: "user" as const, content: "Hi" }] };

/**
 * An OpenAI adapter in front of a scripted server answering `response`, for wire shapes the emulator does not
 * produce. Call once at module level: it registers an afterEach that closes the current test's server.
 */
export function scriptedOpenAIProvider(): {
  answering(response: ScriptedResponse): Promise<Provider>;
  server(): ScriptedServer | undefined;
} {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  return {
    async answering(response) {
      server = await startScriptedServer(response);
      return createOpenAIProvider(openAITestConfig("openai", `${server.url}/v1`));
    },
    server: () => server,
  };
}

/** One chat.completion.chunk of a scripted stream. */
export function chunk(choices: unknown[], usage: unknown = null): Record<string, unknown> {
  return { id: "chatcmpl-9", object: "chat.completion.chunk", created: 1, model: "gpt-test-1", choices, usage };
}

/**
 * A chat.completion answer's JSON body: "Hello" from gpt-test with usage 2 + 1, each field replaceable (an
 * `id`, another `model`, a `usage` without a total or null).
 */
export function chatCompletionBody(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "gpt-test",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 },
    ...fields,
  });
}
