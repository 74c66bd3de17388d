import type { Code } from "@connectrpc/connect";
import type { PipelineEvent, ServedBy } from "../providers/call-context.js";
import type { ProviderErrorKind } from "../providers/provider-error.js";
import type { TokenUsage } from "../providers/provider.js";

/**
 * Prompt and completion text of a request. Recorded only when `telemetry.recordContent` is on; pass it only
 * then, so the text is not even kept around otherwise.
 */
export interface RequestContent {
  /** Chat messages, or a completion prompt as one `user` message. */
  input?: readonly { role: string; content: string }[];
  /** The answer text as delivered to the client. */
  output?: string;
}

/**
 * Everything telemetry needs about one finished RPC, built by the server at the end of the request
 * (after the last stream message, or when it failed). Times are epoch milliseconds (`Date.now()` style,
 * fractions allowed), like the CallTrace's attempt records.
 */
export interface RequestSummary {
  /** The fully qualified method, `llm.v1.LLMService/Chat`. */
  rpc: string;
  requestId: string;
  /** The model name the client asked for, before routing. */
  model: string;
  /** The caller's identity ("" when unknown). */
  clientId: string;
  /** The client key's id ("" when key checking is off). */
  keyId: string;
  /** The client key's tenant; with keys off, the `tenant` entry of the request metadata ("" when absent). */
  tenant: string;
  /** The gRPC status the client gets: 0 for OK, else a connect Code. */
  code: Code | 0;
  /** The ProviderError kind when the request failed ("internal" for anything else). */
  errorKind?: ProviderErrorKind;
  startedAt: number;
  endedAt: number;
  stream: boolean;
  /** Streams: when the first delta went to the client. */
  firstChunkAt?: number;
  /** Streams: deltas sent to the client. */
  chunks: number;
  /** Tokens billed for the answer that was served. */
  usage?: TokenUsage;
  costMicros: bigint;
  costUnknown: boolean;
  /** The request's CallTrace (or any object with its events and servedBy). */
  trace: { readonly events: readonly PipelineEvent[]; readonly servedBy: ServedBy | undefined };
  /** Only read when `recordContent` is on. */
  content?: RequestContent;
}
