import { describe, expect, it } from "vitest";
import { type AttemptHook, attemptPolicy, type Retrier } from "../../src/pipeline/attempt-policy.js";
import { CallTrace } from "../../src/providers/call-context.js";
import type { ChatRequest, StreamPart } from "../../src/providers/provider.js";
import { ProviderError } from "../../src/providers/provider-error.js";
import { RouteFakeProvider, routeError } from "./routing/route-fake-provider.js";

const request: ChatRequest = { model: "m", messages: [{ role: "user", content: "hi" }] };

/** A hook that writes what it is told into `log` as "<name>:<event>". */
function logging(name: string, log: string[], refuse?: ProviderError): AttemptHook {
  return {
    begin() {
      log.push(`${name}:begin`);
      if (refuse) throw refuse;
      return {
        part: (part: StreamPart) => log.push(`${name}:${part.type}`),
        answer: () => log.push(`${name}:answer`),
        fail: (error) => log.push(`${name}:fail:${error instanceof ProviderError ? error.kind : "?"}`),
        end: () => log.push(`${name}:end`),
      };
    },
  };
}

async function drain(parts: AsyncIterable<StreamPart>): Promise<void> {
  for await (const _part of parts) {
    // read to the end
  }
}

describe("attemptPolicy", () => {
  it("begins the hooks in order and tells them of a unary answer innermost first", async () => {
    const log: string[] = [];
    const provider = attemptPolicy(new RouteFakeProvider("p", () => ({ text: "ok" })), {
      hooks: [logging("outer", log), logging("inner", log)],
    });
    await provider.chat(request, new AbortController().signal);
    expect(log).toEqual(["outer:begin", "inner:begin", "inner:answer", "outer:answer", "inner:end", "outer:end"]);
  });

  it("shows each stream part to the hooks before the consumer gets it, and ends them after the stream", async () => {
    const log: string[] = [];
    const provider = attemptPolicy(new RouteFakeProvider("p", () => ({ text: "a b" })), {
      hooks: [logging("outer", log), logging("inner", log)],
    });
    for await (const part of provider.streamChat(request, new AbortController().signal)) log.push(`got:${part.type}`);
    expect(log).toEqual([
      "outer:begin",
      "inner:begin",
      "inner:delta",
      "outer:delta",
      "got:delta",
      "inner:delta",
      "outer:delta",
      "got:delta",
      "inner:finish",
      "outer:finish",
      "got:finish",
      "inner:end",
      "outer:end",
    ]);
  });

  it("tells every hook of a failure, innermost first, and throws it", async () => {
    const log: string[] = [];
    const fake = new RouteFakeProvider("p", () => ({
      text: "a b c",
      errorAfterChunks: 1,
      error: routeError("p", "unavailable"),
    }));
    const provider = attemptPolicy(fake, { hooks: [logging("outer", log), logging("inner", log)] });
    await expect(drain(provider.streamChat(request, new AbortController().signal))).rejects.toMatchObject({
      kind: "unavailable",
    });
    expect(log.slice(-4)).toEqual(["inner:fail:unavailable", "outer:fail:unavailable", "inner:end", "outer:end"]);
  });

  it("does not call the provider when a hook refuses; the hooks begun before it are told, the later never begin", async () => {
    const log: string[] = [];
    const fake = new RouteFakeProvider("p", () => ({ text: "ok" }));
    const refusal = routeError("p", "circuit_open");
    const provider = attemptPolicy(fake, {
      hooks: [logging("first", log), logging("refusing", log, refusal), logging("last", log)],
    });
    await expect(provider.chat(request, new AbortController().signal)).rejects.toBe(refusal);
    expect(log).toEqual(["first:begin", "refusing:begin", "first:fail:circuit_open", "first:end"]);
    expect(fake.calls).toHaveLength(0);
  });

  it("ends the hooks without a failure when the consumer stops reading early", async () => {
    const log: string[] = [];
    const provider = attemptPolicy(new RouteFakeProvider("p", () => ({ text: "a b c d" })), {
      hooks: [logging("hook", log)],
    });
    for await (const _part of provider.streamChat(request, new AbortController().signal)) break;
    expect(log).toEqual(["hook:begin", "hook:delta", "hook:end"]);
  });

  it("turns a stream that stalls past firstTokenMs into a timeout that the hooks are told of", async () => {
    const log: string[] = [];
    const fake = new RouteFakeProvider("p", () => ({ hang: true }));
    const provider = attemptPolicy(fake, {
      hooks: [logging("hook", log)],
      timeouts: { connectMs: 1_000, firstTokenMs: 30 },
    });
    await expect(drain(provider.streamChat(request, new AbortController().signal))).rejects.toMatchObject({
      kind: "timeout",
    });
    expect(log).toEqual(["hook:begin", "hook:fail:timeout", "hook:end"]);
  });

  it("runs the hooks again for each retried attempt, and retries a stream only before its first part", async () => {
    const log: string[] = [];
    const retry: Retrier = {
      deposit: () => log.push("deposit"),
      backOff: async (error, attempt) => {
        log.push(`backOff:${String(attempt)}`);
        if (attempt >= 2) throw error;
      },
    };
    const fake = new RouteFakeProvider("p", (call) =>
      call === 0
        ? { error: routeError("p", "unavailable") }
        : { text: "a b", errorAfterChunks: 1, error: routeError("p", "overloaded") },
    );
    const provider = attemptPolicy(fake, { hooks: [logging("hook", log)], retry });
    await expect(drain(provider.streamChat(request, new AbortController().signal))).rejects.toMatchObject({
      kind: "overloaded",
    });
    expect(log).toEqual([
      "deposit",
      "hook:begin",
      "hook:fail:unavailable",
      "hook:end",
      "backOff:1",
      "hook:begin",
      "hook:delta",
      "hook:fail:overloaded",
      "hook:end",
    ]);
    expect(fake.calls).toHaveLength(2);
  });

  it("passes the call's own context to the provider under time limits, with the headers watch added", async () => {
    const fake = new RouteFakeProvider("p", () => ({ text: "ok" }));
    const provider = attemptPolicy(fake, { timeouts: { connectMs: 1_000, totalMs: 5_000 } });
    const trace = new CallTrace();
    await provider.chat(request, new AbortController().signal, { deadline: 123, clientId: "client-7", trace });
    expect(fake.calls[0]?.context).toMatchObject({ deadline: 123, clientId: "client-7", trace });
    expect(typeof fake.calls[0]?.context?.onResponseHeaders).toBe("function");
  });

  it("retries a stream whose hook refused its first attempt with a retryable error", async () => {
    const log: string[] = [];
    let refusals = 0;
    const flaky: AttemptHook = {
      begin() {
        refusals += 1;
        if (refusals === 1) throw routeError("p", "unavailable");
        return {};
      },
    };
    const retry: Retrier = {
      deposit: () => undefined,
      backOff: async (_error, attempt) => {
        log.push(`backOff:${String(attempt)}`);
      },
    };
    const fake = new RouteFakeProvider("p", () => ({ text: "a" }));
    const provider = attemptPolicy(fake, { hooks: [flaky], retry });
    await drain(provider.streamChat(request, new AbortController().signal));
    expect(log).toEqual(["backOff:1"]);
    expect(fake.calls).toHaveLength(1);
  });

  it("throws the provider's own error when a hook's watch has nothing to say about failures", async () => {
    const quiet: AttemptHook = { begin: () => ({}) };
    const provider = attemptPolicy(RouteFakeProvider.failing("p", "overloaded"), { hooks: [quiet] });
    await expect(provider.chat(request, new AbortController().signal)).rejects.toMatchObject({ kind: "overloaded" });
    await expect(drain(provider.streamChat(request, new AbortController().signal))).rejects.toMatchObject({
      kind: "overloaded",
    });
  });

  it("returns the provider itself when there is no hook and no time limit", () => {
    const fake = new RouteFakeProvider("p", () => ({ text: "ok" }));
    expect(attemptPolicy(fake, { timeouts: { connectMs: 1_000 } })).toBe(fake);
    expect(attemptPolicy(fake, {})).toBe(fake);
  });
});
