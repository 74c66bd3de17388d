// Kills mutants that survived `npm run test:mutation` in src/usage/ledger-writer.ts, spend-loader.ts and
// usage-database.ts (see docs/testing.md, "Mutation testing").
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/telemetry/logger.js";
import { LedgerWriter, type LedgerWriterOptions } from "../../src/usage/ledger-writer.js";
import { loadSpend } from "../../src/usage/spend-loader.js";
import { closeUsageDatabase, openUsageDatabase, type UsageDatabase } from "../../src/usage/usage-database.js";
import { attemptBill, ledgerRecord, tokens } from "./ledger-fixtures.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const checkpointRowid = (db: UsageDatabase): number | undefined =>
  (
    db.prepare("SELECT request_rowid AS rowid FROM spend_checkpoint WHERE id = 1").get() as
      | { rowid: number }
      | undefined
  )?.rowid;
const spendRows = (db: UsageDatabase): unknown[] =>
  db.prepare("SELECT scope, period, spent_micros FROM budget_spend ORDER BY scope, period").all();

const writers: LedgerWriter[] = [];
const dirs: string[] = [];
function writer(db: UsageDatabase, options: Partial<LedgerWriterOptions> = {}): LedgerWriter {
  const w = new LedgerWriter(db, { flushIntervalMs: 60_000, maxBatch: 100, ...options });
  writers.push(w);
  return w;
}
afterEach(() => {
  for (const w of writers.splice(0)) w.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A logger whose lines are kept, parsed. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n"))
        if (line !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

const keySpend = (micros: number) => [{ scope: "key:key_a", period: "total" as const, windowStart: 0, micros }];

describe("LedgerWriter checkpoints", () => {
  it("checkpoints the spend on its own timer, every checkpointIntervalMs", async () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db, { checkpointIntervalMs: 20 });
    w.append(ledgerRecord({ id: "a", spend: keySpend(10) }));
    w.flush();
    expect(spendRows(db)).toEqual([]);
    await sleep(150);
    expect(spendRows(db)).toEqual([{ scope: "key:key_a", period: "total", spent_micros: 10 }]);
    expect(checkpointRowid(db)).toBe(1);
  });

  it("moves the checkpoint past requests that carry no spend", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(ledgerRecord({ id: "a", keyId: "", costMicros: 0n, costPicos: 0n, spend: [] }));
    w.flush();
    w.checkpoint();
    expect(checkpointRowid(db)).toBe(1);
  });

  it("does not move the checkpoint back when a batch holds only requests written before", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(ledgerRecord({ id: "a", costMicros: 10n, spend: keySpend(10) }));
    w.flush();
    w.append(ledgerRecord({ id: "a", costMicros: 10n, spend: keySpend(10) }));
    w.flush();
    w.close();
    expect(checkpointRowid(db)).toBe(1);
    // A restart adds nothing: the checkpoint covers the one request.
    expect(loadSpend(db).filter((s) => s.scope === "key:key_a" && s.period === "total")).toEqual([
      { scope: "key:key_a", period: "total", windowStart: 0, micros: 10 },
    ]);
  });

  it("logs a failed checkpoint and keeps its spend for the next one", () => {
    const db = openUsageDatabase(":memory:");
    const { logger, lines } = capturedLogger();
    const w = writer(db, { logger });
    w.append(ledgerRecord({ id: "a", spend: keySpend(10) }));
    w.flush();
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON budget_spend BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    w.checkpoint();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: "budget spend checkpoint failed; the ledger still holds the spend",
        err: expect.objectContaining({ message: "disk full" }),
      }),
    );
    expect(spendRows(db)).toEqual([]);
    db.exec("DROP TRIGGER refuse");
    w.checkpoint();
    expect(spendRows(db)).toEqual([{ scope: "key:key_a", period: "total", spent_micros: 10 }]);
  });
});

describe("LedgerWriter failures", () => {
  it("without a logger, a failed checkpoint does not throw", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    w.append(ledgerRecord({ id: "a", spend: keySpend(10) }));
    w.flush();
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON budget_spend BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    expect(() => w.checkpoint()).not.toThrow();
    db.exec("DROP TRIGGER refuse");
  });

  it("logs a record the database refuses alone, whole, with its money as decimal strings", () => {
    const db = openUsageDatabase(":memory:");
    const { logger, lines } = capturedLogger();
    const w = writer(db, { logger });
    w.append(ledgerRecord({ id: "good" }));
    w.append(
      ledgerRecord({ id: "bad", costPicos: 123_456_789_012n, attempts: [attemptBill({ usage: tokens(1.5, 0) })] }),
    );
    w.flush();
    const refused = lines.filter((l) => l["msg"] === "usage ledger refused a record; dropped");
    expect(refused).toHaveLength(1);
    expect(refused[0]?.["level"]).toBe(50);
    expect(refused[0]?.["err"]).toBeDefined();
    const record = JSON.parse(String(refused[0]?.["record"])) as Record<string, unknown>;
    expect(record).toMatchObject({ id: "bad", costPicos: "123456789012", costMicros: "450" });
    expect(lines.filter((l) => l["msg"] === "usage ledger write failed; will retry")).toEqual([]);
  });

  it("retries a batch the database refuses whole on its own, after a second at the soonest", async () => {
    const db = openUsageDatabase(":memory:");
    const { logger, lines } = capturedLogger();
    const w = writer(db, { logger, flushIntervalMs: 10 });
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON requests BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    w.append(ledgerRecord({ id: "one" }));
    w.flush();
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 50,
        msg: "usage ledger write failed; will retry",
        records: 1,
        err: expect.objectContaining({ message: "disk full" }),
      }),
    );
    db.exec("DROP TRIGGER refuse");
    await sleep(300);
    expect(w.pending).toBe(1);
    await sleep(1_200);
    expect(w.pending).toBe(0);
    expect(db.prepare("SELECT id FROM requests").all()).toEqual([{ id: "one" }]);
  });
});

describe("loadSpend after a crash", () => {
  it("moves the checkpoint to the last request it recovered, so a second restart adds nothing", () => {
    const db = openUsageDatabase(":memory:");
    const w = writer(db);
    for (const id of ["a", "b", "c"])
      w.append(ledgerRecord({ id, endedAt: Date.parse("2025-03-15T12:00:00Z"), costMicros: 10n, spend: keySpend(10) }));
    w.flush();
    // No checkpoint: the gateway died here.
    const total = (at: number): number =>
      loadSpend(db, at).find((s) => s.scope === "key:key_a" && s.period === "total")?.micros ?? 0;
    expect(total(Date.now())).toBe(30);
    expect(checkpointRowid(db)).toBe(3);
    expect(total(Date.now())).toBe(30);
  });
});

describe("usage database file", () => {
  it("creates the folders of a new database file, and closes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "usage-db-"));
    dirs.push(dir);
    const path = join(dir, "nested", "deeper", "usage.db");
    const db = openUsageDatabase(path);
    expect(existsSync(path)).toBe(true);
    expect(db.open).toBe(true);
    closeUsageDatabase(db);
    expect(db.open).toBe(false);
  });
});
