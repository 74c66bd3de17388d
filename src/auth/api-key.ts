import type { Budget } from "../usage/budget-period.js";

/** A client key as the gateway keeps it: never the secret, only its hash and first characters. */
export interface ApiKeyRecord {
  id: string;
  secretHash: string;
  secretPrefix: string;
  tenant: string;
  name: string;
  /** Model names the key may use; empty: every model. */
  models: readonly string[];
  budget: Budget | undefined;
  requestsPerMinute: number | undefined;
  tokensPerMinute: number | undefined;
  /** Epoch ms. */
  createdAt: number;
  revokedAt: number | undefined;
}

/** What a new key is made from. */
export type NewApiKey = Pick<
  ApiKeyRecord,
  "tenant" | "name" | "models" | "budget" | "requestsPerMinute" | "tokensPerMinute"
>;

/** Whether `key` may call `model` (a model name as clients ask for it). */
export function keyAllowsModel(key: ApiKeyRecord, model: string): boolean {
  return key.models.length === 0 || key.models.includes(model);
}
