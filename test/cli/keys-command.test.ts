import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Code } from "@connectrpc/connect";
import { BudgetPeriod } from "../../gen/llm/v1/admin_service_pb.js";
import { Role } from "../../gen/llm/v1/llm_service_pb.js";
import { runKeysCommand } from "../../src/cli/keys-command.js";
import { main } from "../../src/cli/command-line.js";
import { formatMicros } from "../../src/usage/budget-period.js";
import { models, startHarness, type Harness } from "../support/gateway-harness.js";

const adminKey = "admin-secret-keys-cli-0123456789";
const bearer = { headers: { authorization: `Bearer ${adminKey}` } };
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ adminKey });
});
afterAll(async () => {
  await h.close();
});

/** Runs `llm-gateway keys ...` against the harness gateway (unless `--url` is given) and captures its output. */
async function keys(
  args: string[],
  env: NodeJS.ProcessEnv = { LLM_GATEWAY_ADMIN_KEY: adminKey },
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const argv = args.includes("--url") || args.length === 0 ? args : [...args, "--url", h.gateway.url];
  const code = await runKeysCommand(argv, { print: (t) => (out += t), printError: (t) => (err += t), env });
  return { code, out, err };
}

/** The cells of the table line whose first cell is `first`. */
function rowOf(table: string, first: string): string[] | undefined {
  return table
    .split("\n")
    .map((line) => line.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === first);
}

const chat = (secret: string) =>
  h.grpc.chat(
    { model: models.openai, messages: [{ role: Role.USER, content: "hi" }] },
    { headers: { authorization: `Bearer ${secret}` } },
  );

const today = (): string => new Date().toISOString().slice(0, 10);

describe("llm-gateway keys", () => {
  it("creates a key with a dollar budget, prints its secret once, and the secret works", async () => {
    const { code, out, err } = await keys([
      "create",
      "--tenant",
      "acme",
      "--name",
      "billing",
      "--models",
      "gpt-4o, claude-sonnet",
      "--budget",
      "25",
    ]);
    expect(err).toBe("");
    expect(code).toBe(0);
    const id = /^Created key (\S+)$/m.exec(out)?.[1];
    const secret = /^ {2}secret: +(\S+)$/m.exec(out)?.[1];
    expect(id).toBeDefined();
    expect(secret).toBeDefined();
    expect(out).toMatch(/^ {2}id: +\S+$/m);
    expect(out).toMatch(/^ {2}tenant: +acme$/m);
    expect(out).toMatch(/^ {2}name: +billing$/m);
    expect(out).toMatch(/^ {2}models: +gpt-4o, claude-sonnet$/m);
    expect(out).toMatch(/^ {2}budget: +\$25\.00\/month$/m);
    expect(out).toContain("The secret is shown only once");

    const stored = (await h.admin.listKeys({ tenant: "acme" }, bearer)).keys.find((k) => k.id === id);
    expect(stored).toMatchObject({
      tenant: "acme",
      name: "billing",
      models: ["gpt-4o", "claude-sonnet"],
      budget: { limitMicros: 25_000_000n, period: BudgetPeriod.MONTH },
    });
    expect(secret?.startsWith(stored?.secretPrefix ?? "?")).toBe(true);

    const response = await chat(secret ?? "");
    expect(response.message?.content).toBe("Echo: hi");
  });

  it("sends budgets as exact micro-dollars with the period asked for, and per-key rate limits", async () => {
    const daily = await keys([
      "create",
      "--tenant",
      "exact",
      "--name",
      "daily",
      "--budget",
      "0.000001",
      "--period",
      "day",
      "--rpm",
      "60",
      "--tpm",
      "1000",
    ]);
    expect(daily.code).toBe(0);
    expect(daily.out).toMatch(/^ {2}budget: +\$0\.000001\/day$/m);
    expect(daily.out).toMatch(/^ {2}requests\/min: +60$/m);
    expect(daily.out).toMatch(/^ {2}tokens\/min: +1000$/m);
    const total = await keys([
      "create",
      "--tenant",
      "exact",
      "--name",
      "total",
      "--budget",
      "$1234.5",
      "--period",
      "total",
    ]);
    expect(total.code).toBe(0);
    expect(total.out).toMatch(/^ {2}budget: +\$1234\.50 total$/m);
    const none = await keys(["create", "--tenant", "exact", "--name", "unlimited"]);
    expect(none.out).toMatch(/^ {2}budget: +none$/m);
    expect(none.out).toMatch(/^ {2}models: +\* \(every model\)$/m);

    const listed = (await h.admin.listKeys({ tenant: "exact" }, bearer)).keys;
    expect(listed.find((k) => k.name === "daily")).toMatchObject({
      budget: { limitMicros: 1n, period: BudgetPeriod.DAY },
      requestsPerMinute: 60,
      tokensPerMinute: 1000,
    });
    expect(listed.find((k) => k.name === "total")?.budget).toMatchObject({
      limitMicros: 1_234_500_000n,
      period: BudgetPeriod.TOTAL,
    });
    expect(listed.find((k) => k.name === "unlimited")?.budget).toBeUndefined();
  });

  it.each([
    [["--budget", "1e3"], /--budget: "1e3" is not a dollar amount/],
    [["--budget=-1"], /--budget: "-1" is not a dollar amount/],
    [["--budget", "-1"], /Option '--budget' argument is ambiguous/],
    [["--budget", "0.0000001"], /--budget: "0.0000001" has more than 6 decimals/],
    [["--budget", "0"], /--budget: must be more than 0/],
    [["--budget", "5", "--period", "week"], /--period: must be total, day or month/],
    [["--period", "day"], /--period needs --budget/],
    [["--rpm", "1.5"], /--rpm: not a positive whole number/],
  ])("rejects %j without creating a key (exit 2)", async (extra, message) => {
    const before = (await h.admin.listKeys({ includeRevoked: true }, bearer)).keys.length;
    const { code, out, err } = await keys(["create", "--tenant", "bad", "--name", "bad", ...extra]);
    expect(code).toBe(2);
    expect(out).toBe("");
    expect(err).toMatch(message);
    expect(err).toContain("usage:");
    expect((await h.admin.listKeys({ includeRevoked: true }, bearer)).keys).toHaveLength(before);
  });

  it("lists keys in a table with budget, spend and status, and revokes them", async () => {
    const created = await keys([
      "create",
      "--tenant",
      "listco",
      "--name",
      "svc",
      "--models",
      "gpt-4o",
      "--budget",
      "25.5",
    ]);
    const id = /^Created key (\S+)$/m.exec(created.out)?.[1] ?? "?";
    const secret = /^ {2}secret: +(\S+)$/m.exec(created.out)?.[1] ?? "?";
    await keys(["create", "--tenant", "listco", "--name", "other"]);
    const { usage } = await chat(secret);
    const spent = usage?.costMicros ?? -1n;
    expect(spent).toBeGreaterThan(0n);

    const list = await keys(["list", "--tenant", "listco"]);
    expect(list.code).toBe(0);
    expect(
      list.out
        .split("\n")[0]
        ?.trim()
        .split(/\s{2,}/),
    ).toEqual(["ID", "TENANT", "NAME", "PREFIX", "MODELS", "BUDGET", "SPENT", "STATUS", "CREATED"]);
    const prefix =
      (await h.admin.listKeys({ tenant: "listco" }, bearer)).keys.find((k) => k.id === id)?.secretPrefix ?? "?";
    expect(rowOf(list.out, id)).toEqual([
      id,
      "listco",
      "svc",
      prefix,
      "gpt-4o",
      "$25.50/month",
      formatMicros(spent),
      "active",
      today(),
    ]);
    const other = list.out.split("\n").find((line) => line.includes(" other "));
    expect(
      other
        ?.trim()
        .split(/\s{2,}/)
        .slice(4),
    ).toEqual(["*", "-", "$0.00", "active", today()]);
    expect(list.out).not.toContain("acme");

    const revoked = await keys(["revoke", id]);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toMatch(new RegExp(`^Revoked key ${id} at \\d{4}-\\d{2}-\\d{2}T`, "m"));
    expect(rowOf(revoked.out, id)?.[7]).toBe("revoked");
    await expect(chat(secret)).rejects.toMatchObject({ code: Code.Unauthenticated });

    const active = await keys(["list", "--tenant", "listco"]);
    expect(rowOf(active.out, id)).toBeUndefined();
    const all = await keys(["list", "--tenant", "listco", "--all"]);
    expect(rowOf(all.out, id)?.[7]).toBe("revoked");
    expect(all.out.split("\n").filter((line) => line.includes("listco"))).toHaveLength(2);
    expect((await keys(["list", "--tenant", "nobody"])).out).toBe("No active keys for tenant nobody.\n");
  });

  it("reports the gateway's errors with their code (exit 1)", async () => {
    const missing = await keys(["revoke", "no-such-key"]);
    expect(missing).toEqual({ code: 1, out: "", err: "llm-gateway: not_found: no key no-such-key\n" });
    const unknownModel = await keys(["create", "--tenant", "t", "--name", "n", "--models", "gpt-5"]);
    expect(unknownModel.code).toBe(1);
    expect(unknownModel.err).toBe('llm-gateway: invalid_argument: models: unknown model "gpt-5"\n');
  });

  it("refuses to run without LLM_GATEWAY_ADMIN_KEY (exit 2) and reports a wrong one as unauthenticated (exit 1)", async () => {
    const none = await keys(["list"], {});
    expect(none.code).toBe(2);
    expect(none.out).toBe("");
    expect(none.err).toContain("LLM_GATEWAY_ADMIN_KEY");
    const blank = await keys(["list"], { LLM_GATEWAY_ADMIN_KEY: "  " });
    expect(blank.code).toBe(2);

    const wrong = await keys(["list"], { LLM_GATEWAY_ADMIN_KEY: "admin-secret-wrong" });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toBe("");
    expect(wrong.err).toMatch(/^llm-gateway: unauthenticated: the admin API needs the admin key/);
  });

  it("prints usage for unknown commands and flags (exit 2) and for --help (exit 0)", async () => {
    for (const args of [
      [],
      ["rotate"],
      ["list", "--bogus"],
      ["revoke"],
      ["revoke", "a", "b"],
      ["create", "--name", "n"],
      ["list", "--url", "ftp://x"],
    ]) {
      const { code, out, err } = await keys(args);
      expect({ args, code, out }).toEqual({ args, code: 2, out: "" });
      expect(err).toContain("usage:\n  llm-gateway keys create");
    }
    const help = await keys(["--help"]);
    expect(help).toMatchObject({ code: 0, err: "" });
    expect(help.out).toContain("llm-gateway keys revoke ID");
  });

  it("reports an unreachable gateway as unavailable (exit 1)", async () => {
    const { code, err } = await keys(["list", "--url", "http://127.0.0.1:1"]);
    expect(code).toBe(1);
    expect(err).toMatch(/^llm-gateway: unavailable: /);
  });

  it("is reached from main() before the shared flags are parsed", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["keys", "list", "--tenant", "x", "--bogus"])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0])).join("")).toContain("llm-gateway keys create");
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("llm-gateway keys against a gateway without key checking", () => {
  it("reports failed_precondition (exit 1)", async () => {
    const open = await startHarness();
    try {
      const { code, err } = await keys(["list", "--url", open.gateway.url]);
      expect(code).toBe(1);
      expect(err).toMatch(/^llm-gateway: failed_precondition: the admin API needs auth\.adminKey/);
    } finally {
      await open.close();
    }
  });
});
