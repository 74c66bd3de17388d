import type { AttemptRecord } from "../providers/call-context.js";
import type { TokenUsage } from "../providers/provider.js";
import type { AttemptBill } from "./ledger-record.js";
import type { PriceTable } from "./price-table.js";

/** What billing an attempt needs besides its record. */
export interface BillingInput {
  record: AttemptRecord;
  /** The gateway's estimate of the call's prompt tokens. */
  promptEstimate: number;
  /** Output tokens counted from the text a stream delivered before it broke (0 when it delivered none). */
  deliveredTokens: number;
}

/** Error kinds after which the provider may have processed (and billed) the request it was sent. */
const mayHaveBilled: ReadonlySet<string> = new Set(["timeout", "cancelled"]);

const zero: TokenUsage = {
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
};

/**
 * How the ledger bills one attempt, from what the attempt recorder saw:
 * - an answer (or a stream's finish) with usage: that usage, at the model's price;
 * - a stream that broke (or was abandoned) after delivering text, or finished without usage: the prompt
 *   estimate plus the tokens of the delivered text, marked estimated;
 * - a unary answer without usage: billed, cost unknown (the provider said nothing of what it counted);
 * - a timeout or cancel (the provider may have started): the prompt estimate, marked estimated;
 * - any other failure (an HTTP error, a refusal before sending): not billed.
 */
export function billAttempt(
  { record, promptEstimate, deliveredTokens }: BillingInput,
  prices: PriceTable,
): AttemptBill {
  const base = {
    provider: record.provider,
    model: record.model,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    status: record.error === undefined ? "ok" : record.error.kind,
  };
  const models = record.responseModel === undefined ? [record.model] : [record.responseModel, record.model];
  const priced = (usage: TokenUsage, estimated: boolean, usageKnown = true): AttemptBill => {
    const cost = prices.cost(record.providerType, models, usage);
    return { ...base, billed: true, usage, costPicos: cost.picos, costUnknown: !cost.known || !usageKnown, estimated };
  };
  const estimate = (completionTokens: number): TokenUsage => ({
    ...zero,
    promptTokens: promptEstimate,
    completionTokens,
    totalTokens: promptEstimate + completionTokens,
  });

  if (record.usage !== undefined && record.usage.missing !== true) return priced(record.usage, false);
  if (record.stream && (record.chunks > 0 || record.usage !== undefined))
    return priced(estimate(deliveredTokens), true);
  if (record.usage !== undefined) return priced(zero, false, false);
  if (record.error !== undefined && mayHaveBilled.has(record.error.kind)) return priced(estimate(0), true);
  return { ...base, billed: false, usage: zero, costPicos: 0n, costUnknown: false, estimated: false };
}
