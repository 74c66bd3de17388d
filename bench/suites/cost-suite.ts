import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import type { BenchOptions } from "../bench-options.js";
import type { CostFigures, RequestCpuFigures } from "../report/bench-report.js";
import {
  checkOnlyRow,
  filledLedgerRow,
  measureRequestCpu,
  newLedgerRows,
  type RequestCpuOptions,
  type RequestCpuRow,
} from "./cost-request-cpu.js";
import { openCostStack } from "./cost-stack.js";
import { fillLedger, type LedgerShape } from "./usage-ledger-fill.js";
import { timeUsageQueries } from "./usage-query-timing.js";

/** Ledger rows of the GetUsage rows: 2,000,000, or 20,000 with --quick. */
export const usageLedgerRows = (quick: boolean): number => (quick ? 20_000 : 2_000_000);

/**
 * Cost control, measured in the bench process on temp-file SQLite databases (no server, no emulator):
 * - the CPU the key check and the budget reservation add to a request: the gateway's cost-control path
 *   (authenticate, model check, open the account, top up, bill, cost, finish, the ledger's batched writes)
 *   with keys and budgets on and off, 20,000 requests per loop (1,000 with --quick), median of 3 runs, on a
 *   new ledger and (budgeted keys) again on the filled one below;
 * - GetUsage (`queryUsage`) on a ledger of 2,000,000 requests (5,000 keys, 50 tenants, 20 models, 5 providers,
 *   90 days; 20,000 rows of 100 keys with --quick): wall ms per query, median of 5, with the fill time and file size.
 */
export async function costSuite(options: BenchOptions, log: (message: string) => void): Promise<CostFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), "llm-gateway-bench-cost-"));
  const loops: RequestCpuOptions = {
    iterations: options.quick ? 1_000 : 20_000,
    warmupIterations: options.quick ? 200 : 5_000,
    runs: Math.max(3, options.repeat),
    log,
  };
  const measureOn = async (dbPath: string, rows: readonly RequestCpuRow[]): Promise<RequestCpuFigures[]> => {
    const stack = await openCostStack(dbPath);
    try {
      return await measureRequestCpu(stack, rows, loops);
    } finally {
      await stack.close();
    }
  };
  try {
    const requestCpu: RequestCpuFigures[] = await measureOn(join(dir, "cost-control.db"), [
      checkOnlyRow,
      ...newLedgerRows,
    ]);
    const shape: LedgerShape = {
      rows: usageLedgerRows(options.quick),
      keys: options.quick ? 100 : 5_000,
      tenants: 50,
      models: 20,
      providers: 5,
      days: 90,
      endAt: Date.now(),
    };
    log(`cost: filling a usage ledger with ${shape.rows.toLocaleString("en-US")} requests`);
    const ledger = fillLedger(join(dir, "usage-ledger.db"), shape, log);
    log(
      `cost: ledger filled in ${ledger.fillS.toFixed(1)} s (${(ledger.dbBytes / 1024 / 1024).toFixed(0)} MB); timing GetUsage queries`,
    );
    const queries = timeUsageQueries(ledger, shape.endAt, 5);
    log(`cost: request CPU again on the filled ledger`);
    requestCpu.push(...(await measureOn(ledger.path, [filledLedgerRow(shape.rows)])));
    return {
      requestCpu,
      usage: {
        rows: shape.rows,
        keys: shape.keys,
        tenants: shape.tenants,
        fillS: ledger.fillS,
        dbBytes: ledger.dbBytes,
        queries,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
