// Kills mutants that survived `npm run test:mutation` in src/pipeline/routing/route-provider.ts,
// src/pipeline/routing/route-member.ts and src/pipeline/resilience/timeout-policy.ts (see docs/testing.md, "Mutation testing";
// the routing run of 2026-12-02 in docs/mutation/routing-survivors.md). Fixtures are built inside each test.
import { describe, expect, it } from "vitest";
import { routingSchema, timeoutsSchema } from "../../../src/config/pipeline-schema.js";
import { RouteProvider } from "../../../src/pipeline/routing/route-provider.js";
import { TargetStats } from "../../../src/pipeline/routing/target-stats.js";
import { withTimeouts } from "../../../src/pipeline/resilience/timeout-policy.js";
import type { ChatRequest, Provider, StreamPart } from "../../../src/providers/provider.js";
import { ProviderError } from "../../../src/providers/provider-error.js";
import { RouteFakeProvider, streamingWith } from "./route-fake-provider.js";
import { countedOutside, routeMember } from "./route-members.js";

const request: ChatRequest = { model: "test-model", messages: [{ role: "user", content: "hi" }] };

describe("RouteProvider", () => {
  it("refuses a route without targets, naming the model", () => {
    expect(() => new RouteProvider({ name: "smart", members: [], routing: routingSchema.parse({}) })).toThrow(
      "model smart: a route needs at least one target",
    );
  });

  it("counts a target without a circuit breaker as healthy: it is tried first, in config order", async () => {
    const plain = RouteFakeProvider.answering("plain");
    const guarded = RouteFakeProvider.answering("guarded");
    const route = new RouteProvider({
      name: "smart",
      members: [{ provider: plain, model: "plain-model", weight: 1, stats: new TargetStats() }, routeMember(guarded)],
      routing: routingSchema.parse({ strategy: "ordered" }),
    });
    const answer = await route.chat(request, new AbortController().signal);
    expect(answer.text).toBe("answer from plain");
    expect(guarded.calls).toHaveLength(0);
  });
});

describe("withTimeouts", () => {
  it("fails a call whose caller had already cancelled as cancelled, without waiting for the provider", async () => {
    // A provider that does not notice the abort and answers after 50 ms: the policy must not wait for it.
    const slow = new RouteFakeProvider("slow", () => ({ text: "late", delayMs: 50 }));
    const deaf: Provider = {
      name: slow.name,
      type: slow.type,
      chat: (r) => slow.chat(r, new AbortController().signal),
      complete: (r) => slow.complete(r, new AbortController().signal),
      embed: (r) => slow.embed(r, new AbortController().signal),
      streamChat: (r) => slow.streamChat(r, new AbortController().signal),
      streamComplete: (r) => slow.streamComplete(r, new AbortController().signal),
    };
    const limited = withTimeouts(deaf, timeoutsSchema.parse({ firstTokenMs: 1_000 }));
    const cancelled = new AbortController();
    cancelled.abort();
    const error = await limited.chat(request, cancelled.signal).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ kind: "cancelled", provider: "slow" });
  });
});

describe("withTimeouts: a caller that cancels after its call answered", () => {
  it("no longer reaches the signal the call gave the provider", async () => {
    let given: AbortSignal | undefined;
    const quick = RouteFakeProvider.answering("quick");
    const watching: Provider = {
      name: quick.name,
      type: quick.type,
      chat: (r, signal) => {
        given = signal;
        return quick.chat(r, signal);
      },
      complete: (r, signal) => quick.complete(r, signal),
      embed: (r, signal) => quick.embed(r, signal),
      streamChat: (r, signal) => quick.streamChat(r, signal),
      streamComplete: (r, signal) => quick.streamComplete(r, signal),
    };
    const caller = new AbortController();
    const limited = withTimeouts(watching, timeoutsSchema.parse({ firstTokenMs: 1_000 }));
    await limited.chat(request, caller.signal);
    caller.abort();
    expect(given?.aborted).toBe(false);
  });
});

describe("withTimeouts: a caller that had already cancelled", () => {
  it("gives the provider an aborted signal", async () => {
    let given: AbortSignal | undefined;
    const quick = RouteFakeProvider.answering("quick");
    const watching: Provider = {
      name: quick.name,
      type: quick.type,
      chat: (r, signal) => {
        given = signal;
        return quick.chat(r, signal);
      },
      complete: (r, signal) => quick.complete(r, signal),
      embed: (r, signal) => quick.embed(r, signal),
      streamChat: (r, signal) => quick.streamChat(r, signal),
      streamComplete: (r, signal) => quick.streamComplete(r, signal),
    };
    const cancelled = new AbortController();
    cancelled.abort();
    const limited = withTimeouts(watching, timeoutsSchema.parse({ firstTokenMs: 1_000 }));
    await expect(limited.chat(request, cancelled.signal)).rejects.toMatchObject({
      kind: "cancelled",
      message: "quick: the request was cancelled",
    });
    expect(given?.aborted).toBe(true);
  });
});

describe("withTimeouts: after a unary call answered", () => {
  it("leaves the signal it gave the provider alone once the total limit has passed", async () => {
    let given: AbortSignal | undefined;
    const quick = RouteFakeProvider.answering("quick");
    const watching: Provider = {
      name: quick.name,
      type: quick.type,
      chat: (r, signal) => {
        given = signal;
        return quick.chat(r, signal);
      },
      complete: (r, signal) => quick.complete(r, signal),
      embed: (r, signal) => quick.embed(r, signal),
      streamChat: (r, signal) => quick.streamChat(r, signal),
      streamComplete: (r, signal) => quick.streamComplete(r, signal),
    };
    const limited = withTimeouts(watching, timeoutsSchema.parse({ totalMs: 30 }));
    expect((await limited.chat(request, new AbortController().signal)).text).toBe("answer from quick");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(given?.aborted).toBe(false);
  });
});

describe("withTimeouts: a stream", () => {
  it("aborts the provider's stream when the consumer stops reading", async () => {
    let given: AbortSignal | undefined;
    const provider = streamingWith("streamer", async function* (signal) {
      given = signal;
      yield { type: "delta", text: "a" };
      yield { type: "delta", text: "b" };
    });
    const limited = withTimeouts(provider, timeoutsSchema.parse({ idleMs: 1_000 }));
    for await (const part of limited.streamChat(request, new AbortController().signal)) {
      expect(part).toEqual({ type: "delta", text: "a" });
      break;
    }
    expect(given?.aborted).toBe(true);
    expect(given?.reason).toEqual(new Error("the call ended"));
  });

  it("leaves the provider's signal alone after its stream completed", async () => {
    let given: AbortSignal | undefined;
    const provider = streamingWith("streamer", async function* (signal) {
      given = signal;
      yield { type: "delta", text: "a" };
    });
    const limited = withTimeouts(provider, timeoutsSchema.parse({ idleMs: 1_000 }));
    const texts: string[] = [];
    for await (const part of limited.streamChat(request, new AbortController().signal))
      if (part.type === "delta") texts.push(part.text);
    expect(texts).toEqual(["a"]);
    expect(given?.aborted).toBe(false);
  });

  it("has closed the provider's stream by the time the consumer's early stop returns", async () => {
    let closed = false;
    const provider = streamingWith("streamer", async function* () {
      try {
        yield { type: "delta", text: "a" };
        yield { type: "delta", text: "b" };
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 10));
        closed = true;
      }
    });
    const limited = withTimeouts(provider, timeoutsSchema.parse({ idleMs: 1_000 }));
    for await (const _part of limited.streamChat(request, new AbortController().signal)) break;
    expect(closed).toBe(true);
  });

  it("fails with the timeout at once, though the provider does not notice the abort", async () => {
    const provider = streamingWith("streamer", async function* () {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      yield { type: "delta", text: "late" };
    });
    const limited = withTimeouts(provider, timeoutsSchema.parse({ firstTokenMs: 30 }));
    const started = Date.now();
    let error: unknown;
    try {
      for await (const _part of limited.streamChat(request, new AbortController().signal)) {
        // nothing arrives in time
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ kind: "timeout" });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

/** A provider whose streams are `open()`'s; other methods are unused. */
function streamingAs(open: () => AsyncIterable<StreamPart>): Provider {
  const unused = (): never => {
    throw new Error("not used");
  };
  return {
    name: "streamer",
    type: "openai",
    chat: unused,
    complete: unused,
    embed: unused,
    streamChat: () => open(),
    streamComplete: () => open(),
  };
}

describe("withTimeouts: streams of other shapes", () => {
  it("reads a stream whose iterator has no return method", async () => {
    const limited = withTimeouts(
      streamingAs(() => {
        const parts: StreamPart[] = [{ type: "delta", text: "a" }];
        return {
          [Symbol.asyncIterator]: () => ({
            next: async (): Promise<IteratorResult<StreamPart>> => {
              const value = parts.shift();
              return value === undefined ? { done: true, value: undefined } : { done: false, value };
            },
          }),
        };
      }),
      timeoutsSchema.parse({ idleMs: 1_000 }),
    );
    const texts: string[] = [];
    for await (const part of limited.streamChat(request, new AbortController().signal))
      if (part.type === "delta") texts.push(part.text);
    expect(texts).toEqual(["a"]);
  });

  it("passes on the error of a provider that fails as it opens the stream", async () => {
    const refusal = new ProviderError({ kind: "invalid_request", provider: "streamer", message: "streamer: bad" });
    const limited = withTimeouts(
      streamingAs(() => {
        throw refusal;
      }),
      timeoutsSchema.parse({ idleMs: 1_000 }),
    );
    let error: unknown;
    try {
      for await (const _part of limited.streamChat(request, new AbortController().signal)) {
        // nothing comes
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toBe(refusal);
  });

  it("takes the caller's cancel while the consumer holds a part", async () => {
    const caller = new AbortController();
    const limited = withTimeouts(
      streamingWith("streamer", async function* () {
        yield { type: "delta", text: "a" };
        yield { type: "delta", text: "b" };
      }),
      timeoutsSchema.parse({ idleMs: 1_000 }),
    );
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.prependListener("uncaughtException", onUncaught);
    try {
      for await (const _part of limited.streamChat(request, caller.signal)) {
        caller.abort();
        await new Promise((resolve) => setTimeout(resolve, 10));
        break;
      }
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
  });
});

describe("withTimeouts: the total limit passing while the consumer holds a part", () => {
  it("fails the stream as timed out when the consumer reads on, without an error escaping meanwhile", async () => {
    const limited = withTimeouts(
      streamingWith("streamer", async function* () {
        yield { type: "delta", text: "a" };
        yield { type: "delta", text: "b" };
      }),
      timeoutsSchema.parse({ totalMs: 30 }),
    );
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => {
      uncaught.push(error);
    };
    process.prependListener("uncaughtException", onUncaught);
    let error: unknown;
    try {
      for await (const _part of limited.streamChat(request, new AbortController().signal)) {
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    } catch (caught) {
      error = caught;
    } finally {
      process.removeListener("uncaughtException", onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect(error).toMatchObject({ kind: "timeout" });
  });

  it("fails as cancelled, not timed out, when the caller had cancelled first", async () => {
    const caller = new AbortController();
    const limited = withTimeouts(
      streamingWith("streamer", async function* () {
        yield { type: "delta", text: "a" };
        yield { type: "delta", text: "b" };
      }),
      timeoutsSchema.parse({ totalMs: 30 }),
    );
    let error: unknown;
    try {
      for await (const _part of limited.streamChat(request, caller.signal)) {
        caller.abort();
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ kind: "cancelled" });
  });
});

describe("RouteProvider: a unary call when every target's circuit is open", () => {
  it("fails with circuit_open without calling the layers outside the breakers", async () => {
    const members = ["a", "b"].map((name) => {
      const member = countedOutside(routeMember(RouteFakeProvider.answering(name)));
      member.breaker?.trip();
      return member;
    });
    const route = new RouteProvider({ name: "smart", members, routing: routingSchema.parse({}) });
    await expect(route.chat(request, new AbortController().signal)).rejects.toMatchObject({ kind: "circuit_open" });
    expect(members.map((member) => member.calls)).toEqual([[], []]);
  });
});
