import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { LLMService } from "../../gen/llm/v1/llm_service_pb.js";
import type { ApiKeyRecord } from "../auth/api-key.js";
import type { KeyRegistry } from "../auth/key-registry.js";

/** The client key a call was authenticated with; undefined while key checking is off. */
export const callerKey = createContextKey<ApiKeyRecord | undefined>(undefined, {
  description: "the caller's client key",
});

/**
 * Checks the client key of every LLMService call (`authorization: Bearer <key>`, as gRPC metadata or an
 * HTTP header) before its handler runs, and hands the key to the handler in `callerKey`. A missing, unknown or
 * revoked key fails the call with UNAUTHENTICATED: nothing is estimated, limited or sent to a provider.
 * Without a registry (no `auth` section) every call passes. Other services (health, admin) are not checked
 * here: health is public, the admin API checks the admin key itself.
 */
export function authInterceptor(registry: KeyRegistry | undefined): Interceptor {
  if (registry === undefined) return (next) => next;
  return (next) => (request) => {
    if (request.service.typeName === LLMService.typeName) {
      request.contextValues.set(callerKey, registry.authenticate(request.header.get("authorization")));
    }
    return next(request);
  };
}
