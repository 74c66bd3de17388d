import type { AttemptRecord, CallContext } from "../../providers/call-context.js";
import type { Provider } from "../../providers/provider.js";
import { ProviderError } from "../../providers/provider-error.js";
import { attemptPolicy, type AttemptHook } from "../attempt-policy.js";
import type { PolicyCall } from "../provider-policy.js";
import { gatewayNow as now } from "../../telemetry/gateway-clock.js";

/** A call's error as an attempt records it. */
function errorOf(error: unknown): AttemptRecord["error"] {
  return error instanceof ProviderError
    ? { kind: error.kind, message: error.message }
    : { kind: "internal", message: "internal error" };
}

function startRecord(provider: Pick<Provider, "name" | "type">, call: PolicyCall, context: CallContext): AttemptRecord {
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
  return attemptPolicy(provider, { hooks: [attemptRecordingHook(provider)] });
}

/** withAttemptRecording's part in an attempt of `provider` (its name and type go into the record). */
export function attemptRecordingHook(provider: Pick<Provider, "name" | "type">): AttemptHook {
  return {
    async begin(call, _signal, context) {
      if (!context) return {};
      const account = context.account;
      const deliveredChars = call.stream ? context.trace.deliveredText.length : 0;
      await account?.beforeAttempt(provider.type, call.request.model, maxTokensOf(call), deliveredChars);
      const record = startRecord(provider, call, context);
      let delivered = "";
      return {
        part(part) {
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
        },
        answer(result) {
          record.responseModel = result.model;
          record.usage = result.usage;
          if ("finishReason" in result) record.finishReason = result.finishReason;
        },
        fail(error) {
          record.error = errorOf(error);
        },
        end() {
          record.endedAt = now();
          if (call.stream && !record.usage && !record.error)
            record.error = { kind: "cancelled", message: "the consumer stopped reading" };
          account?.bill(record, delivered);
        },
      };
    },
  };
}
