import type { Exchange } from "./exchange.js";
import type { Fault } from "./fault.js";

/** What an API handler answers one authenticated, well-formed request with. */
export interface OperationContext {
  exchange: Exchange;
  /** The fault in force for this exchange (already past its latency, hang and status parts). */
  fault: Fault;
  /** Prompts with more tokens are refused as too long. */
  contextWindow: number;
  /** Delay between stream chunks unless the fault says otherwise. */
  chunkDelayMs: number;
}
