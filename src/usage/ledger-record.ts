import type { Operation } from "../providers/call-context.js";
import type { TokenUsage } from "../providers/provider.js";
import type { SpendDelta } from "./budget-book.js";

/** One provider attempt of a request as the ledger bills it. */
export interface AttemptBill {
  provider: string;
  /** The provider model asked for (Azure: deployment). */
  model: string;
  startedAt: number;
  endedAt: number;
  /** `ok`, or the attempt's error kind. */
  status: string;
  /** Whether the provider may have billed it (an answer, a stream cut after output, a timeout after sending). */
  billed: boolean;
  /** Billed tokens: reported by the provider, or estimated (see `estimated`); zero when not billed. */
  usage: TokenUsage;
  costPicos: bigint;
  /** The price or the usage is unknown: `costPicos` does not hold its cost. */
  costUnknown: boolean;
  /** The tokens were counted by the gateway (prompt estimate, streamed text), not reported by the provider. */
  estimated: boolean;
}

/** One request that reached a provider, whatever its end: the ledger's row and its attempts. */
export interface LedgerRecord {
  /** The gateway's request id. */
  id: string;
  startedAt: number;
  endedAt: number;
  tenant: string;
  /** The client key's id; "" when key checking is off. */
  keyId: string;
  /** The model name the client asked for. */
  model: string;
  /** The provider that served it, or the last one tried. */
  provider: string;
  providerModel: string;
  operation: Operation;
  stream: boolean;
  /** `ok`, or the error kind the request ended with. */
  status: string;
  attempts: readonly AttemptBill[];
  /** The billed attempts' tokens, added up. */
  usage: TokenUsage;
  /** The billed attempts' cost, rounded half up to micro-USD once: what the answer reported as cost_micros. */
  costMicros: bigint;
  costPicos: bigint;
  costUnknown: boolean;
  estimated: boolean;
  /** The budget spend it settled (checkpointed into `budget_spend` after the record is written). */
  spend: readonly SpendDelta[];
}
