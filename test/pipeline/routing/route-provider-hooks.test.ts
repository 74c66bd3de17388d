import { describe, expect, it } from "vitest";
import { routingSchema } from "../../../src/config/pipeline-schema.js";
import type { AttemptHook } from "../../../src/pipeline/attempt-policy.js";
import { RouteProvider } from "../../../src/pipeline/routing/route-provider.js";
import type { StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider } from "./route-fake-provider.js";
import { routeMember } from "./route-members.js";

const chat = { model: "test-model", messages: [{ role: "user" as const, content: "hi" }] };

/** A hook that writes down what it is told, in order. */
function recordingHook(refuse?: ProviderError): { hook: AttemptHook; events: string[] } {
  const events: string[] = [];
  return {
    events,
    hook: {
      begin(call) {
        events.push(`begin ${call.operation} ${call.request.model}${call.stream ? " stream" : ""}`);
        if (refuse) throw refuse;
        return {
          part: (part) => events.push(part.type === "delta" ? `part ${part.text}` : "part finish"),
          answer: () => events.push("answer"),
          fail: (error) => events.push(`fail ${(error as ProviderError).kind}`),
          end: () => events.push("end"),
        };
      },
    },
  };
}

/** A route over a failing first target and an answering second one, with `hook` as its own. */
function fallingBackRoute(hook: AttemptHook): { route: RouteProvider; second: RouteFakeProvider } {
  const second = RouteFakeProvider.answering("b", "two words");
  const route = new RouteProvider({
    name: "test-model",
    members: [routeMember(RouteFakeProvider.failing("a", "unavailable")), routeMember(second)],
    routing: routingSchema.parse({ strategy: "ordered" }),
    hooks: [hook],
  });
  return { route, second };
}

async function collect(parts: AsyncIterable<StreamPart>): Promise<string[]> {
  const seen: string[] = [];
  for await (const part of parts) seen.push(part.type === "delta" ? part.text : "finish");
  return seen;
}

describe("RouteProvider hooks: once per call, whichever targets serve it", () => {
  it("begins a unary call's hooks once across a fallback and tells them the answer", async () => {
    const { hook, events } = recordingHook();
    const { route } = fallingBackRoute(hook);
    const result = await route.chat(chat, new AbortController().signal);
    expect(result.text).toBe("two words");
    expect(events).toEqual(["begin chat test-model", "answer", "end"]);
  });

  it("shows a stream's hooks every part the consumer gets, once across a fallback", async () => {
    const { hook, events } = recordingHook();
    const { route } = fallingBackRoute(hook);
    const parts = await collect(route.streamChat(chat, new AbortController().signal));
    expect(parts).toEqual(["two", " words", "finish"]);
    expect(events).toEqual(["begin chat test-model stream", "part two", "part  words", "part finish", "end"]);
  });

  it("tells the hooks the route's failure when every target fails", async () => {
    const { hook, events } = recordingHook();
    const route = new RouteProvider({
      name: "test-model",
      members: [routeMember(RouteFakeProvider.failing("a", "unavailable"))],
      routing: routingSchema.parse({}),
      hooks: [hook],
    });
    await expect(collect(route.streamChat(chat, new AbortController().signal))).rejects.toMatchObject({
      kind: "unavailable",
    });
    await expect(route.chat(chat, new AbortController().signal)).rejects.toMatchObject({ kind: "unavailable" });
    expect(events).toEqual([
      "begin chat test-model stream",
      "fail unavailable",
      "end",
      "begin chat test-model",
      "fail unavailable",
      "end",
    ]);
  });

  it("ends the hooks when the consumer stops reading early", async () => {
    const { hook, events } = recordingHook();
    const { route } = fallingBackRoute(hook);
    for await (const part of route.streamChat(chat, new AbortController().signal)) {
      expect(part).toEqual({ type: "delta", text: "two" });
      break;
    }
    expect(events).toEqual(["begin chat test-model stream", "part two", "end"]);
  });

  it("calls no target when a hook refuses the call", async () => {
    const refusal = new ProviderError({ kind: "rate_limited", provider: "", message: "client over its limit" });
    const { hook } = recordingHook(refusal);
    const { route, second } = fallingBackRoute(hook);
    await expect(route.chat(chat, new AbortController().signal)).rejects.toBe(refusal);
    await expect(collect(route.streamChat(chat, new AbortController().signal))).rejects.toBe(refusal);
    expect(second.calls).toEqual([]);
  });
});
