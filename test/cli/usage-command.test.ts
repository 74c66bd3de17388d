import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { runKeysCommand } from "../../src/cli/keys-command.js";
import { parseTimePoint } from "../../src/cli/time-range.js";
import { runUsageCommand } from "../../src/cli/usage-command.js";
import { main } from "../../src/cli/command-line.js";
import { formatMicros } from "../../src/usage/budget-period.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

const adminKey = "admin-secret-usage-cli-0123456789";
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ adminKey });
});
afterAll(async () => {
  await h.close();
});

type Run = (
  argv: readonly string[],
  io: { print: (t: string) => void; printError: (t: string) => void; env: NodeJS.ProcessEnv },
) => Promise<number>;

/** Runs a CLI command against the harness gateway and captures its output. */
async function cli(
  run: Run,
  args: string[],
  env: NodeJS.ProcessEnv = { LLM_GATEWAY_ADMIN_KEY: adminKey },
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run([...args, "--url", h.gateway.url], {
    print: (t) => (out += t),
    printError: (t) => (err += t),
    env,
  });
  return { code, out, err };
}
const usage = (args: string[], env?: NodeJS.ProcessEnv) => cli(runUsageCommand, args, env);

/** Creates a key through `llm-gateway keys create` and returns its id and secret. */
async function createKey(tenant: string): Promise<{ id: string; secret: string }> {
  const { code, out } = await cli(runKeysCommand, ["create", "--tenant", tenant, "--name", "svc"]);
  expect(code).toBe(0);
  return { id: /^Created key (\S+)$/m.exec(out)?.[1] ?? "?", secret: /^ {2}secret: +(\S+)$/m.exec(out)?.[1] ?? "?" };
}

const chat = (secret: string, model: string = models.openai) =>
  h.grpc.chat(
    { model, messages: [{ role: Role.USER, content: "hi" }] },
    { headers: { authorization: `Bearer ${secret}` } },
  );

/** The table's lines split into cells (columns are separated by two or more spaces). */
const cellsOf = (table: string): string[][] =>
  table
    .trimEnd()
    .split("\n")
    .map((line) => line.trim().split(/\s{2,}/));

describe("llm-gateway usage", () => {
  it("shows a key's request and its exact cost, grouped by key", async () => {
    const { id, secret } = await createKey("usage-one");
    const response = await chat(secret);
    const cost = response.usage?.costMicros ?? -1n;
    expect(cost).toBeGreaterThan(0n);

    const { code, out, err } = await usage(["--by", "key", "--tenant", "usage-one"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(cellsOf(out)).toEqual([
      ["KEY", "REQUESTS", "FAILED", "PROMPT TOKENS", "COMPLETION TOKENS", "CACHED", "COST"],
      [
        id,
        "1",
        "0",
        String(response.usage?.promptTokens),
        String(response.usage?.completionTokens),
        "0",
        formatMicros(cost),
      ],
    ]);
    expect(out).not.toContain("TOTAL");
  });

  it("groups by several dimensions, adds a TOTAL line, and filters by key", async () => {
    const a = await createKey("usage-two");
    const b = await createKey("usage-two");
    const answers = [
      await chat(a.secret),
      await chat(b.secret, models.anthropic),
      await chat(b.secret, models.anthropic),
    ];
    const costs = answers.map((r) => r.usage?.costMicros ?? 0n);
    const prompt = answers.map((r) => r.usage?.promptTokens ?? 0);

    const { code, out } = await usage(["--by", "key,model,day", "--tenant", "usage-two", "--since", "1h"]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^Usage from \d{4}-\d{2}-\d{2}T[\d:.]+Z to now$/);
    const rows = cellsOf(lines.slice(1).join("\n"));
    const day = new Date().toISOString().slice(0, 10);
    expect(rows[0]).toEqual([
      "KEY",
      "MODEL",
      "DAY (UTC)",
      "REQUESTS",
      "FAILED",
      "PROMPT TOKENS",
      "COMPLETION TOKENS",
      "CACHED",
      "COST",
    ]);
    expect(rows.find((r) => r[0] === a.id)).toEqual([
      a.id,
      models.openai,
      day,
      "1",
      "0",
      String(prompt[0]),
      expect.any(String),
      "0",
      formatMicros(costs[0] ?? 0n),
    ]);
    expect(rows.find((r) => r[0] === b.id)?.slice(0, 5)).toEqual([b.id, models.anthropic, day, "2", "0"]);
    expect(rows.find((r) => r[0] === b.id)?.[8]).toBe(formatMicros((costs[1] ?? 0n) + (costs[2] ?? 0n)));
    expect(rows.at(-2)?.every((cell) => /^-+$/.test(cell))).toBe(true);
    const total = rows.at(-1);
    expect(total?.[0]).toBe("TOTAL");
    expect(total?.slice(1, 4)).toEqual(["3", "0", String(prompt.reduce((x, y) => x + y, 0))]);
    expect(total?.at(-1)).toBe(formatMicros(costs.reduce((x, y) => x + y, 0n)));

    const onlyB = await usage(["--by", "model", "--key", b.id]);
    expect(cellsOf(onlyB.out).slice(1)).toEqual([
      [
        models.anthropic,
        "2",
        "0",
        expect.any(String),
        expect.any(String),
        "0",
        formatMicros((costs[1] ?? 0n) + (costs[2] ?? 0n)),
      ],
    ]);
    const byProvider = await usage([
      "--by",
      "provider",
      "--tenant",
      "usage-two",
      "--model",
      models.anthropic,
      "--provider",
      "claude",
    ]);
    expect(cellsOf(byProvider.out)[1]?.slice(0, 2)).toEqual(["claude", "2"]);
  });

  it("prints one row of totals without --by, and says when nothing matches the range", async () => {
    const { secret } = await createKey("usage-three");
    const response = await chat(secret);
    const totals = await usage(["--tenant", "usage-three"]);
    expect(cellsOf(totals.out)).toEqual([
      ["REQUESTS", "FAILED", "PROMPT TOKENS", "COMPLETION TOKENS", "CACHED", "COST"],
      [
        "1",
        "0",
        String(response.usage?.promptTokens),
        String(response.usage?.completionTokens),
        "0",
        formatMicros(response.usage?.costMicros ?? -1n),
      ],
    ]);
    const past = await usage([
      "--by",
      "key",
      "--tenant",
      "usage-three",
      "--since",
      "2000-01-01",
      "--until",
      "2000-01-02T00:00",
    ]);
    expect(past).toEqual({
      code: 0,
      err: "",
      out: "Usage from 2000-01-01T00:00:00.000Z to 2000-01-02T00:00:00.000Z\nNo usage matches.\n",
    });
  });

  it("refuses to run without LLM_GATEWAY_ADMIN_KEY (exit 2) and reports a wrong one as unauthenticated (exit 1)", async () => {
    const none = await usage(["--by", "key"], {});
    expect(none).toMatchObject({ code: 2, out: "" });
    expect(none.err).toContain("LLM_GATEWAY_ADMIN_KEY");
    const wrong = await usage(["--by", "key"], { LLM_GATEWAY_ADMIN_KEY: "admin-secret-wrong" });
    expect(wrong).toMatchObject({ code: 1, out: "" });
    expect(wrong.err).toMatch(/^llm-gateway: unauthenticated: /);
  });

  it.each([
    [["--by", "week"], /--by: unknown group week \(use tenant, key, model, provider, hour, day\)/],
    [["--by", "hour,day"], /--by: group by hour or by day, not both/],
    [["--since", "yesterday"], /--since: "yesterday" is neither a duration ago/],
    [["--until", "2025-02-30"], /--until: "2025-02-30" is not a valid date/],
    [["--since", "1h", "--until", "2h"], /--since must be before --until/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["extra"], /Unexpected argument 'extra'/],
  ])("rejects %j with the usage text (exit 2)", async (args, message) => {
    const { code, out, err } = await usage(args);
    expect({ code, out }).toEqual({ code: 2, out: "" });
    expect(err).toMatch(message);
    expect(err).toContain("usage:\n  llm-gateway usage [--by");
  });

  it("is reached from main() before the shared flags are parsed", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["usage", "--by", "week"])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join("")).toContain("--by: unknown group week");
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("parseTimePoint", () => {
  const now = Date.UTC(2025, 5, 15, 12, 0, 0);
  it.each([
    ["30m", now - 30 * 60_000],
    ["12h", now - 12 * 3_600_000],
    ["7d", now - 7 * 86_400_000],
    ["2025-06-01", Date.UTC(2025, 5, 1)],
    ["2025-06-01T08:30", Date.UTC(2025, 5, 1, 8, 30)],
    ["2025-06-01T08:30:15.5Z", Date.UTC(2025, 5, 1, 8, 30, 15, 500)],
    ["2025-06-01T08:30:00+02:00", Date.UTC(2025, 5, 1, 6, 30)],
  ])("reads %s", (text, ms) => {
    expect(parseTimePoint(text, now)).toBe(ms);
  });
  it.each(["7", "7y", "-7d", "2025-02-29", "2025-13-01", "2025-06-01T24:00", "June 1", "1717200000000"])(
    "rejects %s",
    (text) => {
      expect(() => parseTimePoint(text, now)).toThrow(RangeError);
    },
  );
});
