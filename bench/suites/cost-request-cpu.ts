import { newRequestId } from "../../src/server/request-id.js";
import { keyAllowsModel } from "../../src/auth/api-key.js";
import type { ChatMessage } from "../../src/providers/provider.js";
import type { AttemptRecord } from "../../src/providers/call-context.js";
import type { Caller } from "../../src/usage/cost-control.js";
import type { RequestCpuFigures } from "../report/bench-report.js";
import { promptOfWords } from "../setup/bench-payloads.js";
import { costModel, costProvider, costRoute, type CostStack, type StackKey } from "./cost-stack.js";

/** Which keys a loop's requests carry. */
type KeyMode = "all-keys" | "budgeted-keys" | "off";

/** One measured loop: whose keys, and whether each request brings a new messages array. */
export interface LoopShape {
  keys: KeyMode;
  /** True: a new messages array per request (the estimator tokenizes it); false: one array for every request (memoized). */
  freshMessages: boolean;
  /** False: the ledger records are dropped, so the loop measures the key and budget check in memory alone. */
  ledger?: boolean;
}

/** How long the measurement runs. */
export interface RequestCpuOptions {
  iterations: number;
  warmupIterations: number;
  runs: number;
  log(message: string): void;
}

const prompt = promptOfWords(24);
const sharedMessages: ChatMessage[] = [{ role: "user", content: prompt }];
const usage = { promptTokens: 32, completionTokens: 16, totalTokens: 48, cachedPromptTokens: 0, cacheWriteTokens: 0 };
const signal = new AbortController().signal;
const offCaller: Caller = { keyId: "", tenant: "", key: undefined };
/** Let timers (the ledger's 50 ms flush) run every this many requests, as a server's event loop would. */
const yieldEvery = 64;

/** One successful attempt, as the attempt recorder writes it. */
function attemptRecord(startedAt: number): AttemptRecord {
  return {
    type: "attempt",
    provider: costProvider,
    providerType: "openai",
    model: costModel,
    operation: "chat",
    stream: false,
    startedAt,
    endedAt: startedAt + 1,
    chunks: 0,
    maxTokens: 16,
    responseModel: "gpt-4o-2024-08-06",
    usage,
    finishReason: "stop",
  };
}

/**
 * What the gateway does for cost control in one unary chat (Gateway.#open, the attempt recorder, #unary): with
 * a key, authenticate its header and check the model; open the call's account (estimate, price, reserve);
 * top the hold up before the attempt; bill the attempt; read the cost for the answer's metadata; finish
 * (settle, queue the ledger record).
 */
async function oneRequest(stack: CostStack, key: StackKey | undefined, messages: ChatMessage[]): Promise<void> {
  let caller = offCaller;
  if (key !== undefined) {
    const record = stack.registry.authenticate(key.authorization);
    if (!keyAllowsModel(record, costModel)) throw new Error(`bench key ${record.id} may not use ${costModel}`);
    caller = { keyId: record.id, tenant: record.tenant, key: record };
  }
  const startedAt = Date.now();
  const { account } = await stack.costs.open(
    { requestId: newRequestId(), model: costModel, stream: false, startedAt },
    caller,
    costRoute,
    { operation: "chat", request: { messages, maxTokens: 16 } },
    signal,
    undefined,
  );
  await account.beforeAttempt("openai", costModel, 16, 0);
  account.bill(attemptRecord(startedAt), "");
  await account.cost();
  stack.costs.finish(account, { status: "ok", servedBy: { provider: costProvider, model: costModel } });
}

function keysOf(stack: CostStack, mode: KeyMode): (StackKey | undefined)[] {
  if (mode === "off") return [undefined];
  return mode === "all-keys" ? stack.keys : stack.keys.filter((k) => k.budgeted);
}

/** Runs `count` requests; the ledger records they queued are written before it returns. */
async function loop(stack: CostStack, shape: LoopShape, count: number): Promise<void> {
  const keys = keysOf(stack, shape.keys);
  stack.recording = shape.ledger !== false;
  for (let i = 0; i < count; i++) {
    const messages = shape.freshMessages ? [{ role: "user" as const, content: prompt }] : sharedMessages;
    await oneRequest(stack, keys[i % keys.length], messages);
    if (i % yieldEvery === yieldEvery - 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await stack.costs.drain();
  stack.ledger.flush();
}

/** Microseconds of process CPU (user + system, every thread) per request over one loop. */
async function cpuPerRequest(stack: CostStack, shape: LoopShape, count: number): Promise<number> {
  const before = process.cpuUsage();
  await loop(stack, shape, count);
  const spent = process.cpuUsage(before);
  return (spent.user + spent.system) / count;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** One row: the same loop with keys and budgets on and off. */
export interface RequestCpuRow {
  id: string;
  name: string;
  on: LoopShape;
  off: LoopShape;
}

/** The rows on a new ledger: per key mix and messages mode. */
export const newLedgerRows: readonly RequestCpuRow[] = [
  {
    id: "cost/request-cpu/tokenized",
    name: "Key + budget check per request, 1,000 keys (half with key and tenant budgets), prompt tokenized",
    on: { keys: "all-keys", freshMessages: true },
    off: { keys: "off", freshMessages: true },
  },
  {
    id: "cost/request-cpu/memoized",
    name: "Key + budget check per request, 1,000 keys (half budgeted), prompt already tokenized (same array)",
    on: { keys: "all-keys", freshMessages: false },
    off: { keys: "off", freshMessages: false },
  },
  {
    id: "cost/request-cpu/budgeted",
    name: "Key + budget check per request, budgeted keys only (key and tenant budget), prompt tokenized",
    on: { keys: "budgeted-keys", freshMessages: true },
    off: { keys: "off", freshMessages: true },
  },
];

/**
 * The budgeted row without the ledger: what authenticating the key, checking the model, reserving and settling
 * the key's and tenant's budgets (and raising no alert) cost in memory, without the write of the request's
 * ledger row (which with keys on also spreads over the per-key and per-tenant indexes).
 */
export const checkOnlyRow: RequestCpuRow = {
  id: "cost/request-cpu/check-only",
  name: "Key + budget check per request, budgeted keys only, prompt tokenized, ledger writes left out (key check and budgets in memory)",
  on: { keys: "budgeted-keys", freshMessages: true, ledger: false },
  off: { keys: "off", freshMessages: true, ledger: false },
};

/** The budgeted row again on a ledger that already holds `rows` requests (each write then costs more). */
export function filledLedgerRow(rows: number): RequestCpuRow {
  return {
    id: "cost/request-cpu/budgeted-filled-ledger",
    name: `Key + budget check per request, budgeted keys only, prompt tokenized, on a ledger of ${rows.toLocaleString("en-US")} requests`,
    on: { keys: "budgeted-keys", freshMessages: true },
    off: { keys: "off", freshMessages: true },
  };
}

/**
 * CPU the cost-control path costs per request, in the bench process (a micro-measurement: a server row cannot
 * resolve microseconds in its noise). Every loop is warmed up, then each row's on and off loops are measured
 * back to back, `runs` times, on first in even runs and off first in odd ones, so the ledger growing under
 * them (each write costs a little more as it grows) and drift on the machine weigh on both alike; each row
 * reports the medians of on and off, and the median of the runs' on − off.
 */
export async function measureRequestCpu(
  stack: CostStack,
  rows: readonly RequestCpuRow[],
  options: RequestCpuOptions,
): Promise<RequestCpuFigures[]> {
  options.log(`cost: warming up ${rows.length * 2} request loops (${options.warmupIterations} requests each)`);
  for (const row of rows) for (const shape of [row.on, row.off]) await loop(stack, shape, options.warmupIterations);
  const measured = rows.map(() => ({ on: [] as number[], off: [] as number[] }));
  for (let run = 0; run < options.runs; run++) {
    options.log(
      `cost: request CPU, run ${run + 1}/${options.runs} (${rows.length * 2} loops × ${options.iterations} requests)`,
    );
    for (const [index, row] of rows.entries()) {
      const runs = measured[index];
      if (runs === undefined) continue;
      const sides = run % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const);
      for (const side of sides) runs[side].push(await cpuPerRequest(stack, row[side], options.iterations));
    }
  }
  return rows.map((row, index) => {
    const on = measured[index]?.on ?? [];
    const off = measured[index]?.off ?? [];
    return {
      id: row.id,
      name: row.name,
      iterations: options.iterations,
      keysOnUs: median(on),
      keysOffUs: median(off),
      addedUs: median(on.map((value, run) => value - (off[run] ?? Number.NaN))),
      runs: { keysOnUs: on, keysOffUs: off },
    };
  });
}
