import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "../../gen/llm/v1/llm_service_pb.js";
import { errorKindTraits } from "../providers/error-kind-traits.js";
import { ProviderError, type ProviderErrorKind } from "../providers/provider-error.js";

/**
 * Each provider error kind's gRPC code, as errorKindTraits decides it. `auth` is INTERNAL, not
 * UNAUTHENTICATED: a provider rejecting the gateway's own key is the gateway's fault, not the caller's
 * credentials.
 */
export const codeForKind: Readonly<Record<ProviderErrorKind, Code>> = Object.fromEntries(
  Object.entries(errorKindTraits).map(([kind, traits]) => [kind, traits.code]),
) as Record<ProviderErrorKind, Code>;

/**
 * Converts whatever a handler caught into the ConnectError the client sees: the code from the table, a
 * message without stack or secret, and an ErrorDetail (kind, provider, provider request id, retry delay).
 * Errors that are not ProviderErrors are bugs: the client gets INTERNAL with no detail of them.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (!(error instanceof ProviderError)) {
    return new ConnectError("internal error", Code.Internal, undefined, [
      { desc: ErrorDetailSchema, value: { kind: "internal" } },
    ]);
  }
  // Providers echo part of a rejected key in their message ("Incorrect API key provided: sk-abc***wxyz"):
  // an auth error says only which provider refused, so no fragment of the gateway's key reaches a client.
  const message =
    error.kind === "auth"
      ? `provider ${error.provider} rejected the gateway's credentials${error.status ? ` (HTTP ${error.status})` : ""}; check its apiKey`
      : error.message;
  const requestId = error.providerRequestId ? ` [provider request id: ${error.providerRequestId}]` : "";
  const detail = create(ErrorDetailSchema, {
    kind: error.kind,
    provider: error.provider,
    providerRequestId: error.providerRequestId ?? "",
    retryable: error.retryable,
    retryAfterMs: BigInt(errorKindTraits[error.kind].retryHint ? Math.round(error.retryAfterMs ?? 0) : 0),
  });
  return new ConnectError(`${message}${requestId}`, codeForKind[error.kind], undefined, [
    { desc: ErrorDetailSchema, value: detail },
  ]);
}

/** The kind of a call ended by its own signal, from the signal's status. */
const kindOfSignalCode: Partial<Record<Code, ProviderErrorKind>> = {
  [Code.DeadlineExceeded]: "timeout",
  [Code.Unavailable]: "unavailable",
};

/**
 * The status a call ends with. When the call's own signal ended it with a status (the client's deadline
 * passed, the server is shutting down, the client went away), that decides the kind: `timeout` for the
 * deadline, `unavailable` for the shutdown (retryable elsewhere), `cancelled` otherwise, mapped by the same
 * table (DEADLINE_EXCEEDED, UNAVAILABLE, CANCELED) with the signal's message and an ErrorDetail. Otherwise it
 * is the mapped error.
 */
export function statusOf(error: unknown, signal: AbortSignal): ConnectError {
  if (!(signal.aborted && signal.reason instanceof ConnectError)) return toConnectError(error);
  const reason = signal.reason;
  return toConnectError(
    new ProviderError({
      kind: kindOfSignalCode[reason.code] ?? "cancelled",
      provider: "",
      message: reason.rawMessage,
    }),
  );
}
