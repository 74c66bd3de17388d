import { describe, expect, it } from "vitest";
import { detachedContext } from "../../../src/providers/call-context.js";
import type { ChatRequest, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError } from "./route-fake-provider.js";
import { routeMember, routeOver } from "./route-members.js";

const request: ChatRequest = { model: "test-model", messages: [{ role: "user", content: "hi" }] };
const live = (): AbortSignal => new AbortController().signal;

async function consume(stream: AsyncIterable<StreamPart>): Promise<{ text: string; error?: unknown }> {
  let text = "";
  try {
    for await (const part of stream) if (part.type === "delta") text += part.text;
    return { text };
  } catch (error) {
    return { text, error };
  }
}

/** A fake that sends `text` word by word and fails with `unavailable` after `chunks` of them. */
function breaking(name: string, text: string, chunks: number): RouteFakeProvider {
  return new RouteFakeProvider(name, () => ({
    text,
    errorAfterChunks: chunks,
    error: routeError(name, "unavailable"),
  }));
}

describe("RouteProvider mid-stream continuation", () => {
  it("trims the prefill's trailing whitespace and does not send it twice", async () => {
    const continuing = new RouteFakeProvider("claude", () => ({ text: " z w" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "x y  more", 3)), routeMember(continuing)], {
      midStream: "continue",
    });
    const context = detachedContext();
    const received = await consume(route.streamChat(request, live(), context));
    expect(received).toEqual({ text: "x y z w" });
    expect(context.trace.deliveredText).toBe("x y ");
    const sent = continuing.calls[0]?.request;
    expect(sent).toMatchObject({
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: "x y" },
      ],
    });
  });

  it("extends the caller's own final assistant message rather than adding a second one", async () => {
    const continuing = new RouteFakeProvider("claude", () => ({ text: " c" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "a b", 2)), routeMember(continuing)], {
      midStream: "continue",
    });
    const prefilled: ChatRequest = {
      ...request,
      messages: [...request.messages, { role: "assistant", content: "Sure:" }],
    };
    expect(await consume(route.streamChat(prefilled, live()))).toEqual({ text: "a b c" });
    expect(continuing.calls[0]?.request).toMatchObject({
      messages: [{ role: "user" }, { role: "assistant", content: "Sure:a b" }],
    });
  });

  it("moves on to the next capable target when a continuation fails before its first chunk", async () => {
    const refusing = new RouteFakeProvider(
      "claude-1",
      () => ({ error: routeError("claude-1", "overloaded") }),
      "anthropic",
    );
    const continuing = new RouteFakeProvider("claude-2", () => ({ text: " b" }), "anthropic");
    const route = routeOver(
      [routeMember(breaking("first", "a x", 1)), routeMember(refusing), routeMember(continuing)],
      { midStream: "continue" },
    );
    const context = detachedContext();
    expect(await consume(route.streamChat(request, live(), context))).toEqual({ text: "a b" });
    expect(
      context.trace.events.map(
        (event) => event.type === "stream_continued" && `${event.fromProvider}>${event.toProvider}:${event.reason}`,
      ),
    ).toEqual(["first>claude-1:unavailable", "claude-1>claude-2:overloaded"]);
  });

  it("chains continuations over several broken targets and sums what each delivered", async () => {
    const route = routeOver(
      [
        routeMember(breaking("first", "a b c d", 1)),
        routeMember(
          new RouteFakeProvider(
            "claude-1",
            () => ({ text: " b c d", errorAfterChunks: 1, error: routeError("claude-1", "timeout") }),
            "anthropic",
          ),
        ),
        routeMember(new RouteFakeProvider("claude-2", () => ({ text: " c d" }), "anthropic")),
      ],
      { midStream: "continue" },
    );
    const parts: StreamPart[] = [];
    for await (const part of route.streamChat(request, live())) parts.push(part);
    expect(parts.flatMap((part) => (part.type === "delta" ? [part.text] : []))).toEqual(["a", " b", " c", " d"]);
    const finish = parts.at(-1);
    expect(finish?.type === "finish" && finish.usage.completionTokens).toBe(4);
  });

  it("passes the caller's cancel through as it came, not as a mid-stream failure", async () => {
    const controller = new AbortController();
    const route = routeOver(
      [
        routeMember(new RouteFakeProvider("slow", () => ({ text: "a b", delayMs: 10_000 }))),
        routeMember(RouteFakeProvider.answering("other")),
      ],
      {
        midStream: "continue",
      },
    );
    const pending = consume(route.streamChat(request, controller.signal));
    controller.abort();
    const { error } = await pending;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "cancelled", provider: "slow" });
  });

  it("stops the upstream stream when the consumer stops reading", async () => {
    const member = routeMember(RouteFakeProvider.answering("p", "a b c d"), { breaker: { failureThreshold: 1 } });
    const route = routeOver([member]);
    for await (const part of route.streamChat(request, live())) {
      expect(part).toEqual({ type: "delta", text: "a" });
      break;
    }
    expect(member.stats.inFlight).toBe(0);
    expect(member.breaker?.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 0 });
  });

  it("does not yield anything of an attempt that failed before its first chunk", async () => {
    const route = routeOver(
      [
        routeMember(RouteFakeProvider.failing("first", "overloaded")),
        routeMember(RouteFakeProvider.answering("second", "only this")),
      ],
      {
        midStream: "error",
      },
    );
    expect(await consume(route.streamChat(request, live()))).toEqual({ text: "only this" });
  });
});
