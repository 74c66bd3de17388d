// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/stream-continuation.ts and
// src/pipeline/routing/continuation-requests.ts (see docs/testing.md, "Mutation testing"; the routing run of 2026-12-02
// in docs/mutation/routing-survivors.md): what the client receives from a broken stream, and what reaches the target
// that continues it. Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { detachedContext } from "../../../src/providers/call-context.js";
import type { ChatRequest, CompletionRequest, Provider, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError, streamingWith } from "./route-fake-provider.js";
import { countedOutside, routeMember, routeOver } from "./route-members.js";

const live = (): AbortSignal => new AbortController().signal;
const chatOf = (messages: ChatRequest["messages"]): ChatRequest => ({ model: "test-model", messages });

async function consume(stream: AsyncIterable<StreamPart>): Promise<{ text: string; error?: unknown }> {
  let text = "";
  try {
    for await (const part of stream) if (part.type === "delta") text += part.text;
    return { text };
  } catch (error) {
    return { text, error };
  }
}

/** The messages of the first request `fake` received. */
function sentMessages(fake: RouteFakeProvider): ChatRequest["messages"] | undefined {
  const request = fake.calls[0]?.request;
  return request !== undefined && "messages" in request ? request.messages : undefined;
}

/** The prompt of the first request `fake` received. */
function sentPrompt(fake: RouteFakeProvider): string | undefined {
  const request = fake.calls[0]?.request;
  return request !== undefined && "prompt" in request ? request.prompt : undefined;
}

/** A fake that sends `text` word by word and fails with `unavailable` after `chunks` of them. */
function breaking(name: string, text: string, chunks: number): RouteFakeProvider {
  return new RouteFakeProvider(name, () => ({
    text,
    errorAfterChunks: chunks,
    error: routeError(name, "unavailable"),
  }));
}

/** A provider whose streams send `deltas` and then end without a finish part. */
function endingEarly(name: string, deltas: readonly string[]): Provider {
  return streamingWith(name, async function* () {
    for (const text of deltas) yield { type: "delta", text };
  });
}

describe("routeStream: a target's stream that ends before its finish part", () => {
  it("fails as unavailable, saying the stream ended before it completed", async () => {
    const route = routeOver([routeMember(endingEarly("silent", []))]);
    const { error } = await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "unavailable", provider: "silent" });
    expect((error as ProviderError).message).toBe("silent: stream ended before it completed");
  });
});

describe("routeStream: the error of a stream broken after one chunk", () => {
  it("speaks of 1 chunk and 1 character, in the singular", async () => {
    const route = routeOver([routeMember(breaking("first", "x y", 1))], { midStream: "error" });
    const received = await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()));
    expect(received.text).toBe("x");
    expect((received.error as ProviderError).message).toBe(
      "first: stream failed after 1 chunk (1 character) were delivered: first: unavailable",
    );
  });
});

describe("routeStream: continuing a chat on a prefill target", () => {
  it("appends the delivered text after the whole conversation, its last message kept", async () => {
    const continuing = new RouteFakeProvider("claude", () => ({ text: " z" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "x y more", 2)), routeMember(continuing)], {
      midStream: "continue",
    });
    const conversation = chatOf([
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "user", content: "c" },
    ]);
    expect(await consume(route.streamChat(conversation, live()))).toEqual({ text: "x y z" });
    expect(sentMessages(continuing)).toEqual([
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
      { role: "user", content: "c" },
      { role: "assistant", content: "x y" },
    ]);
  });

  it("sends no empty assistant message when only whitespace was delivered", async () => {
    const continuing = new RouteFakeProvider("claude", () => ({ text: " hello" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "  more", 1)), routeMember(continuing)], {
      midStream: "continue",
    });
    expect(await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()))).toEqual({
      text: " hello",
    });
    expect(sentMessages(continuing)).toEqual([{ role: "user", content: "hi" }]);
  });

  it("skips the delivered trailing whitespace once, even when it comes back as a delta of its own", async () => {
    // "x" and " " were delivered; the prefill carries "x", so the continuation's first " " is the delivered one.
    const continuing = new RouteFakeProvider("claude", () => ({ text: "  world" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "x  y", 2)), routeMember(continuing)], {
      midStream: "continue",
    });
    expect(await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()))).toEqual({
      text: "x  world",
    });
  });
});

/** An Anthropic provider whose streams send exactly `deltas`, then finish. */
function continuingWith(name: string, deltas: readonly string[]): Provider {
  async function* stream(): AsyncGenerator<StreamPart> {
    for (const text of deltas) yield { type: "delta", text };
    const usage = {
      promptTokens: 10,
      completionTokens: 1,
      totalTokens: 11,
      cachedPromptTokens: 0,
      cacheWriteTokens: 0,
    };
    yield { type: "finish", id: `${name}-1`, finishReason: "stop", usage, model: "m" };
  }
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    name,
    type: "anthropic",
    chat: unused,
    complete: unused,
    embed: unused,
    streamChat: stream,
    streamComplete: stream,
  };
}

describe("routeStream: the delivered whitespace a prefill could not carry", () => {
  /** The text a client receives when `delivered` chunks of `first` were sent, then `deltas` continue it. */
  async function received(first: string, delivered: number, deltas: readonly string[]): Promise<string> {
    const route = routeOver(
      [routeMember(breaking("first", first, delivered)), routeMember(continuingWith("claude", deltas))],
      { midStream: "continue" },
    );
    const { text, error } = await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()));
    expect(error).toBeUndefined();
    return text;
  }

  it("skips only as much leading whitespace as was delivered, in one delta", async () => {
    // "x" and " " delivered: one space to skip; the continuation starts with two.
    expect(await received("x  y", 2, ["  world"])).toBe("x  world");
  });

  it("skips nothing when the continuation does not start with whitespace, then nothing more", async () => {
    expect(await received("x  y", 2, ["world again", " now"])).toBe("x world again now");
  });

  it("stops skipping at the first text, though less whitespace came than was delivered", async () => {
    // "x", " ", " " delivered: two spaces to skip; the continuation starts with one, then text.
    expect(await received("x   y", 3, [" a", " b"])).toBe("x  a b");
  });

  it("goes on skipping in the next delta when a delta was all whitespace", async () => {
    expect(await received("x   y", 3, [" ", " a"])).toBe("x  a");
  });
});

describe("routeStream: the usage of a continued stream", () => {
  it("adds the attempt that broke after delivering text, not a continuation that failed before its first", async () => {
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
    let usage: unknown;
    for await (const part of route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()))
      if (part.type === "finish") usage = part.usage;
    // The continuation's own 10 + 1, and the first attempt's: its prompt (10, less the 1 chunk delivered
    // before the continuation started: 9) and its 1 delivered chunk.
    expect(usage).toMatchObject({ promptTokens: 19, completionTokens: 2, totalTokens: 21 });
  });
});

describe("routeStream: the usage of a stream continued twice", () => {
  it("counts each broken attempt's prompt with the text delivered before it started", async () => {
    const second = new RouteFakeProvider(
      "claude-1",
      () => ({ text: " b c", errorAfterChunks: 1, error: routeError("claude-1", "unavailable") }),
      "anthropic",
    );
    const third = new RouteFakeProvider("claude-2", () => ({ text: " z" }), "anthropic");
    const route = routeOver([routeMember(breaking("first", "a x", 1)), routeMember(second), routeMember(third)], {
      midStream: "continue",
    });
    let text = "";
    let usage: unknown;
    for await (const part of route.streamChat(chatOf([{ role: "user", content: "hi" }]), live())) {
      if (part.type === "delta") text += part.text;
      else usage = part.usage;
    }
    expect(text).toBe("a b z");
    // The last target's prompt is 10 with 2 chunks delivered before it: 8 without them. The first attempt's
    // prompt is 8 + 0, the second's 8 + 1 (the chunk delivered before it); each delivered 1 chunk.
    expect(usage).toMatchObject({ promptTokens: 27, completionTokens: 3, totalTokens: 30 });
  });
});

describe("routeStream: continuing a text completion", () => {
  const prompt: CompletionRequest = { model: "test-model", prompt: "Say:" };

  it("does not ask an Anthropic target, which serves completions as a chat", async () => {
    const claude = RouteFakeProvider.answering("claude", " rest", "anthropic");
    const route = routeOver([routeMember(breaking("first", "Hello there", 1)), routeMember(claude)], {
      midStream: "continue",
    });
    const received = await consume(route.streamComplete(prompt, live()));
    expect(received.text).toBe("Hello");
    expect((received.error as ProviderError).message).toContain("no other target can continue it");
    expect(claude.calls).toHaveLength(0);
  });

  it("sends the continuation's leading whitespace on: the prompt carried the delivered text whole", async () => {
    const continuing = RouteFakeProvider.answering("second", " world");
    const route = routeOver([routeMember(breaking("first", "Hello there", 1)), routeMember(continuing)], {
      midStream: "continue",
    });
    expect(await consume(route.streamComplete(prompt, live()))).toEqual({ text: "Hello world" });
    expect(sentPrompt(continuing)).toBe("Say:Hello");
  });
});

describe("routeStream: every target's circuit open", () => {
  it("fails with circuit_open without opening a stream through the layers outside the breakers", async () => {
    const members = ["a", "b"].map((name) => {
      const member = countedOutside(routeMember(RouteFakeProvider.answering(name)));
      member.breaker?.trip();
      return member;
    });
    const route = routeOver(members);
    const { error } = await consume(route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()));
    expect(error).toMatchObject({ kind: "circuit_open" });
    expect(members.map((member) => member.calls)).toEqual([[], []]);
  });
});

describe("routeStream: the caller cancelling after the first delta", () => {
  it("ends the stream with the cancel error as it came, not as a mid-stream failure", async () => {
    const provider = streamingWith("slow", async function* (signal) {
      yield { type: "delta", text: "x" };
      const cancelled = new ProviderError({
        kind: "cancelled",
        provider: "slow",
        message: "slow: cancelled by the caller",
      });
      if (signal.aborted) throw cancelled;
      await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(cancelled)));
    });
    const caller = new AbortController();
    const route = routeOver(
      [routeMember(provider), routeMember(RouteFakeProvider.answering("next", " y", "anthropic"))],
      {
        midStream: "continue",
      },
    );
    let text = "";
    let error: unknown;
    try {
      for await (const part of route.streamChat(chatOf([{ role: "user", content: "hi" }]), caller.signal)) {
        if (part.type === "delta") text += part.text;
        caller.abort();
      }
    } catch (caught) {
      error = caught;
    }
    expect(text).toBe("x");
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "cancelled", provider: "slow", message: "slow: cancelled by the caller" });
  });
});

describe("routeStream: a stream served by its first target", () => {
  it("passes the target's usage on as it was reported, its total included", async () => {
    const usage = {
      promptTokens: 10,
      completionTokens: 2,
      totalTokens: 15,
      cachedPromptTokens: 0,
      cacheWriteTokens: 0,
    };
    const provider = streamingWith("vllm", async function* () {
      yield { type: "delta", text: "a" };
      yield { type: "delta", text: " b" };
      yield { type: "finish", id: "vllm-1", finishReason: "stop", usage, model: "m" };
    });
    const parts: StreamPart[] = [];
    for await (const part of routeOver([routeMember(provider)]).streamChat(
      chatOf([{ role: "user", content: "hi" }]),
      live(),
    ))
      parts.push(part);
    expect(parts.at(-1)).toEqual({ type: "finish", id: "vllm-1", finishReason: "stop", usage, model: "m" });
  });
});

describe("routeStream: a target that sends an empty delta and then fails", () => {
  it("is replaced transparently: an empty delta delivers nothing", async () => {
    const provider = streamingWith("blank", async function* () {
      yield { type: "delta", text: "" };
      throw routeError("blank", "unavailable");
    });
    const route = routeOver([routeMember(provider), routeMember(RouteFakeProvider.answering("second", "hello"))], {
      midStream: "error",
    });
    const deltas: string[] = [];
    for await (const part of route.streamChat(chatOf([{ role: "user", content: "hi" }]), live()))
      if (part.type === "delta") deltas.push(part.text);
    expect(deltas).toEqual(["hello"]);
  });
});

describe("routeStream: the target that served a stream", () => {
  it("is in the trace from the first delta, and stays there when the stream then breaks", async () => {
    const route = routeOver([routeMember(breaking("first", "x y", 1))], { midStream: "error" });
    const context = detachedContext();
    const servedAtFirstDelta: unknown[] = [];
    let error: unknown;
    try {
      for await (const part of route.streamChat(chatOf([{ role: "user", content: "hi" }]), live(), context))
        if (part.type === "delta") servedAtFirstDelta.push(context.trace.servedBy);
    } catch (caught) {
      error = caught;
    }
    const first = { provider: "first", providerType: "openai", model: "first-model" };
    expect(servedAtFirstDelta).toEqual([first]);
    expect(error).toMatchObject({ kind: "unavailable", provider: "first" });
    expect(context.trace.servedBy).toEqual(first);
  });
});
