import type { AttemptRecord, CallContext } from "../../providers/call-context.js";
import type { Provider } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { providerPolicy, type PolicyCall } from "../provider-policy.js";

const now = (): number => performance.timeOrigin + performance.now();

/** A call's error as an attempt records it. */
function errorOf(error: unknown): AttemptRecord["error"] {
  return error instanceof ProviderError
    ? { kind: error.kind, message: error.message }
    : { kind: "internal", message: "internal error" };
}

function startRecord(provider: Provider, call: PolicyCall, context: CallContext): AttemptRecord {
  const record: AttemptRecord = {
    type: "attempt",
    provider: provider.name,
    providerType: provider.type,
    model: call.request.model,
    operation: call.operation,
    stream: call.stream,
    startedAt: now(),
    endedAt: 0,
    chunks: 0,
  };
  if ("maxTokens" in call.request && call.request.maxTokens !== undefined) record.maxTokens = call.request.maxTokens;
  context.trace.record(record);
  return record;
}

function maxTokensOf(call: PolicyCall): number | undefined {
  return "maxTokens" in call.request ? call.request.maxTokens : undefined;
}

/**
 * Records every call that reaches the provider as an AttemptRecord in the call's trace: timing, time to first
 * chunk, usage, finish reason or error. Spans, metrics, logs and the `attempts` metadata are built from these
 * records. The call's account (when it has one) is asked before each attempt whether its budgets allow it,
 * and bills each attempt when it ends. Calls without a context pass straight through.
 */
export function withAttemptRecording(provider: Provider): Provider {
  return providerPolicy(provider, {
    async unary(call, signal, context, invoke) {
      if (!context) return invoke(signal, context);
      await context.account?.beforeAttempt(provider.type, call.request.model, maxTokensOf(call), 0);
      const record = startRecord(provider, call, context);
      try {
        const result = await invoke(signal, context);
        record.responseModel = result.model;
        record.usage = result.usage;
        if ("finishReason" in result) record.finishReason = result.finishReason;
        return result;
      } catch (error) {
        record.error = errorOf(error);
        throw error;
      } finally {
        record.endedAt = now();
        context.account?.bill(record, "");
      }
    },

    async *stream(call, signal, context, open) {
      if (!context) {
        yield* open(signal, context);
        return;
      }
      const account = context.account;
      await account?.beforeAttempt(
        provider.type,
        call.request.model,
        maxTokensOf(call),
        context.trace.deliveredText.length,
      );
      const record = startRecord(provider, call, context);
      let delivered = "";
      try {
        for await (const part of open(signal, context)) {
          if (part.type === "delta") {
            record.firstChunkAt ??= now();
            record.chunks += 1;
            if (account) delivered += part.text;
          } else {
            record.responseModel = part.model;
            record.usage = part.usage;
            record.finishReason = part.finishReason;
            record.endedAt = now();
            account?.bill(record, part.usage.missing === true ? delivered : "");
          }
          yield part;
        }
      } catch (error) {
        record.error = errorOf(error);
        throw error;
      } finally {
        record.endedAt = now();
        if (!record.usage && !record.error)
          record.error = { kind: "cancelled", message: "the consumer stopped reading" };
        account?.bill(record, delivered);
      }
    },
  });
}
