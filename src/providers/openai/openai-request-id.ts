import type { HeaderSource } from "../retry-after.js";

/**
 * The provider's id for one request, from OpenAI's `x-request-id` or, failing that, Azure's
 * `apim-request-id` response header: the id a vendor's support asks for.
 */
export function openAIRequestId(headers: HeaderSource | undefined): string | undefined {
  return headers?.get("x-request-id") ?? headers?.get("apim-request-id") ?? undefined;
}
