import { parseArgs } from "node:util";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  BudgetPeriod,
  type ApiKey,
  type Budget,
  type CreateKeyRequestSchema,
} from "../../gen/llm/v1/admin_service_pb.js";
import { formatMicros } from "../usage/budget-period.js";
import { defaultAdminUrl, runAdminCommand, type AdminCliIo, type AdminCommand } from "./admin-client.js";
import { parseDollars } from "./dollars.js";
import { formatTable } from "./table.js";

const usage = `usage:
  llm-gateway keys create --tenant T --name N [--models a,b] [--budget USD] [--period total|day|month] [--rpm N] [--tpm N]
  llm-gateway keys list [--tenant T] [--all]       --all lists revoked keys too
  llm-gateway keys revoke ID
  every command takes --url URL (default ${defaultAdminUrl}) and reads the admin key from LLM_GATEWAY_ADMIN_KEY`;

type KeysArgs =
  | { action: "create"; request: MessageInitShape<typeof CreateKeyRequestSchema> }
  | { action: "list"; tenant: string; includeRevoked: boolean }
  | { action: "revoke"; id: string };

const periods: Readonly<Record<string, BudgetPeriod>> = {
  total: BudgetPeriod.TOTAL,
  day: BudgetPeriod.DAY,
  month: BudgetPeriod.MONTH,
};
const common = { url: { type: "string" }, help: { type: "boolean", short: "h" } } as const;

/** A count flag (`--rpm`, `--tpm`): a positive 32-bit integer, or 0 (the gateway's default) when absent. */
function positiveInt(flag: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 2_147_483_647)
    throw new RangeError(`--${flag}: not a positive whole number: ${text}`);
  return value;
}

type Parsed = ReturnType<AdminCommand<KeysArgs>["parse"]>;

function parseCreate(argv: string[]): Parsed {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...common,
      tenant: { type: "string" },
      name: { type: "string" },
      models: { type: "string" },
      budget: { type: "string" },
      period: { type: "string" },
      rpm: { type: "string" },
      tpm: { type: "string" },
    },
  });
  if (values.help === true) return "help";
  if (values.tenant === undefined || values.tenant.trim() === "") throw new RangeError("keys create needs --tenant T");
  if (values.name === undefined || values.name.trim() === "") throw new RangeError("keys create needs --name N");
  if (values.period !== undefined && values.budget === undefined) throw new RangeError("--period needs --budget");
  let budget: MessageInitShape<typeof CreateKeyRequestSchema>["budget"];
  if (values.budget !== undefined) {
    let limitMicros: bigint;
    try {
      limitMicros = parseDollars(values.budget);
    } catch (error) {
      throw new RangeError(`--budget: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (limitMicros <= 0n) throw new RangeError("--budget: must be more than 0");
    const period = periods[values.period ?? "month"];
    if (period === undefined) throw new RangeError(`--period: must be total, day or month, not ${values.period ?? ""}`);
    budget = { limitMicros, period };
  }
  const models = (values.models ?? "")
    .split(",")
    .map((m) => m.trim())
    .filter((m) => m !== "");
  const request = {
    tenant: values.tenant.trim(),
    name: values.name.trim(),
    models,
    ...(budget === undefined ? {} : { budget }),
    requestsPerMinute: positiveInt("rpm", values.rpm),
    tokensPerMinute: positiveInt("tpm", values.tpm),
  };
  return { url: values.url, args: { action: "create", request } };
}

/** A budget for people: `$25.00/month`, `$5.00/day`, `$100.00 total`, `-` without one. */
function budgetText(budget: Budget | undefined): string {
  if (budget === undefined) return "-";
  const limit = formatMicros(budget.limitMicros);
  return budget.period === BudgetPeriod.DAY
    ? `${limit}/day`
    : budget.period === BudgetPeriod.MONTH
      ? `${limit}/month`
      : `${limit} total`;
}

function keysTable(keys: readonly ApiKey[]): string {
  return formatTable(
    ["ID", "TENANT", "NAME", "PREFIX", "MODELS", "BUDGET", "SPENT", "STATUS", "CREATED"].map((header) => ({
      header,
      ...(header === "SPENT" ? { align: "right" as const } : {}),
    })),
    keys.map((k) => [
      k.id,
      k.tenant,
      k.name,
      k.secretPrefix,
      k.models.length === 0 ? "*" : k.models.join(","),
      budgetText(k.budget),
      formatMicros(k.spentMicros),
      k.revoked ? "revoked" : "active",
      k.createTime === undefined ? "-" : timestampDate(k.createTime).toISOString().slice(0, 10),
    ]),
  );
}

const keysCommand: AdminCommand<KeysArgs> = {
  usage,
  parse(argv) {
    const [action, ...rest] = argv;
    switch (action) {
      case "-h":
      case "--help":
        return "help";
      case "create":
        return parseCreate(rest);
      case "list": {
        const { values } = parseArgs({
          args: rest,
          options: { ...common, tenant: { type: "string" }, all: { type: "boolean" } },
        });
        if (values.help === true) return "help";
        return {
          url: values.url,
          args: { action: "list", tenant: values.tenant ?? "", includeRevoked: values.all ?? false },
        };
      }
      case "revoke": {
        const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: common });
        if (values.help === true) return "help";
        const [id, ...extra] = positionals;
        if (id === undefined || id.trim() === "" || extra.length > 0)
          throw new RangeError("keys revoke needs exactly one key ID");
        return { url: values.url, args: { action: "revoke", id: id.trim() } };
      }
      default:
        throw new RangeError(
          action === undefined ? "keys needs a command: create, list or revoke" : `unknown keys command ${action}`,
        );
    }
  },

  async run({ client, options }, args, print) {
    switch (args.action) {
      case "create": {
        const { key, secret } = await client.createKey(args.request, options);
        if (key === undefined) throw new Error("the gateway answered CreateKey without a key");
        const lines: [string, string][] = [
          ["id", key.id],
          ["tenant", key.tenant],
          ["name", key.name],
          ["models", key.models.length === 0 ? "* (every model)" : key.models.join(", ")],
          ["budget", key.budget === undefined ? "none" : budgetText(key.budget)],
          ...(key.requestsPerMinute > 0 ? [["requests/min", String(key.requestsPerMinute)] as [string, string]] : []),
          ...(key.tokensPerMinute > 0 ? [["tokens/min", String(key.tokensPerMinute)] as [string, string]] : []),
          ["secret", secret],
        ];
        const width = Math.max(...lines.map(([label]) => label.length)) + 1;
        print(
          `Created key ${key.id}\n${lines.map(([label, value]) => `  ${`${label}:`.padEnd(width)}  ${value}`).join("\n")}\n\n`,
        );
        print("The secret is shown only once: store it now. The gateway keeps only its hash.\n");
        return;
      }
      case "list": {
        const { keys } = await client.listKeys({ tenant: args.tenant, includeRevoked: args.includeRevoked }, options);
        if (keys.length === 0) {
          print(
            `No ${args.includeRevoked ? "" : "active "}keys${args.tenant === "" ? "" : ` for tenant ${args.tenant}`}.\n`,
          );
          return;
        }
        print(keysTable(keys));
        return;
      }
      case "revoke": {
        const { key } = await client.revokeKey({ id: args.id }, options);
        if (key === undefined) throw new Error("the gateway answered RevokeKey without a key");
        const when = key.revokeTime === undefined ? "" : ` at ${timestampDate(key.revokeTime).toISOString()}`;
        print(`Revoked key ${key.id}${when}: calls with it now fail with UNAUTHENTICATED.\n${keysTable([key])}`);
        return;
      }
    }
  },
};

/**
 * `llm-gateway keys create|list|revoke`: issues, lists and revokes client keys through the AdminService of a
 * running gateway and prints them for people (the secret of a new key is shown once). Budgets are typed in
 * dollars and sent as exact micro-dollars. Returns the exit code: 0 done, 1 the gateway refused, 2 bad usage.
 */
export function runKeysCommand(argv: readonly string[], io: AdminCliIo): Promise<number> {
  return runAdminCommand(keysCommand, argv, io);
}
