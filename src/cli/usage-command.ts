import { parseArgs } from "node:util";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { UsageGroupBy, type UsageRow } from "../../gen/llm/v1/admin_service_pb.js";
import { formatMicros } from "../usage/budget-period.js";
import { defaultAdminUrl, runAdminCommand, type AdminCliIo, type AdminCommand } from "./admin-client.js";
import { formatTable, type TableColumn } from "./table.js";
import { parseTimePoint } from "./time-range.js";

const usage = `usage:
  llm-gateway usage [--by tenant,key,model,provider,hour,day] [--since 7d] [--until TIME]
                    [--tenant T] [--key ID] [--model M] [--provider P] [--url URL]
  --by groups the rows (none: one row of totals); --since/--until take a duration ago (30m, 12h, 7d) or an
  ISO date or date-time (UTC unless it has an offset); --url defaults to ${defaultAdminUrl};
  the admin key is read from LLM_GATEWAY_ADMIN_KEY`;

/** A group column: the wire value, its header and its cell. */
interface Dimension {
  value: UsageGroupBy;
  header: string;
  cell(row: UsageRow): string;
}

const periodStart = (row: UsageRow, length: number, suffix: string): string =>
  row.periodStart === undefined ? "-" : `${timestampDate(row.periodStart).toISOString().slice(0, length)}${suffix}`;

const dimensions: Readonly<Record<string, Dimension>> = {
  tenant: { value: UsageGroupBy.TENANT, header: "TENANT", cell: (row) => row.tenant },
  key: { value: UsageGroupBy.KEY, header: "KEY", cell: (row) => row.keyId },
  model: { value: UsageGroupBy.MODEL, header: "MODEL", cell: (row) => row.model },
  provider: { value: UsageGroupBy.PROVIDER, header: "PROVIDER", cell: (row) => row.provider },
  hour: { value: UsageGroupBy.HOUR, header: "HOUR (UTC)", cell: (row) => periodStart(row, 16, "Z") },
  day: { value: UsageGroupBy.DAY, header: "DAY (UTC)", cell: (row) => periodStart(row, 10, "") },
};

/** The measure columns, after the group columns, with how each is summed and shown. */
const measures: readonly { header: string; value(row: UsageRow): bigint; text(value: bigint): string }[] = [
  { header: "REQUESTS", value: (row) => row.requests, text: String },
  { header: "FAILED", value: (row) => row.failedRequests, text: String },
  { header: "PROMPT TOKENS", value: (row) => row.promptTokens, text: String },
  { header: "COMPLETION TOKENS", value: (row) => row.completionTokens, text: String },
  { header: "CACHED", value: (row) => row.cachedPromptTokens, text: String },
  { header: "COST", value: (row) => row.costMicros, text: formatMicros },
];

interface UsageArgs {
  groups: Dimension[];
  tenant: string;
  keyId: string;
  model: string;
  provider: string;
  since: number | undefined;
  until: number | undefined;
}

function parseGroups(text: string | undefined): Dimension[] {
  const names = [
    ...new Set(
      (text ?? "")
        .split(",")
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ""),
    ),
  ];
  const groups = names.map((name) => {
    const dimension = dimensions[name];
    if (dimension === undefined)
      throw new RangeError(`--by: unknown group ${name} (use ${Object.keys(dimensions).join(", ")})`);
    return dimension;
  });
  if (names.includes("hour") && names.includes("day")) throw new RangeError("--by: group by hour or by day, not both");
  return groups;
}

const usageCommand: AdminCommand<UsageArgs> = {
  usage,
  parse(argv) {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        url: { type: "string" },
        help: { type: "boolean", short: "h" },
        by: { type: "string" },
        since: { type: "string" },
        until: { type: "string" },
        tenant: { type: "string" },
        key: { type: "string" },
        model: { type: "string" },
        provider: { type: "string" },
      },
    });
    if (values.help === true) return "help";
    const now = Date.now();
    const time = (flag: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      try {
        return parseTimePoint(text, now);
      } catch (error) {
        throw new RangeError(`--${flag}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    const since = time("since", values.since);
    const until = time("until", values.until);
    if (since !== undefined && until !== undefined && since >= until)
      throw new RangeError("--since must be before --until");
    return {
      url: values.url,
      args: {
        groups: parseGroups(values.by),
        tenant: values.tenant ?? "",
        keyId: values.key ?? "",
        model: values.model ?? "",
        provider: values.provider ?? "",
        since,
        until,
      },
    };
  },

  async run({ client, options }, args, print) {
    const { rows } = await client.getUsage(
      {
        tenant: args.tenant,
        keyId: args.keyId,
        model: args.model,
        provider: args.provider,
        ...(args.since === undefined ? {} : { startTime: timestampFromMs(args.since) }),
        ...(args.until === undefined ? {} : { endTime: timestampFromMs(args.until) }),
        groupBy: args.groups.map((g) => g.value),
      },
      options,
    );
    if (args.since !== undefined || args.until !== undefined) {
      const at = (ms: number | undefined, open: string): string =>
        ms === undefined ? open : new Date(ms).toISOString();
      print(`Usage from ${at(args.since, "the start")} to ${at(args.until, "now")}\n`);
    }
    if (rows.length === 0) {
      print("No usage matches.\n");
      return;
    }
    const columns: TableColumn[] = [
      ...args.groups.map((g) => ({ header: g.header })),
      ...measures.map((m) => ({ header: m.header, align: "right" as const })),
    ];
    const body = rows.map((row) => [
      ...args.groups.map((g) => g.cell(row)),
      ...measures.map((m) => m.text(m.value(row))),
    ]);
    const sum = (value: (row: UsageRow) => bigint): bigint => rows.reduce((total, row) => total + value(row), 0n);
    const footer =
      rows.length > 1
        ? [...args.groups.map((_, i) => (i === 0 ? "TOTAL" : "")), ...measures.map((m) => m.text(sum(m.value)))]
        : undefined;
    print(formatTable(columns, body, footer));
    const unknown = sum((row) => row.costUnknownRequests);
    if (unknown > 0n)
      print(
        `${unknown} request(s) have no known cost (no price for the model, or no usage reported) and are not in COST.\n`,
      );
    const estimated = sum((row) => row.estimatedRequests);
    if (estimated > 0n)
      print(
        `${estimated} request(s) have tokens estimated by the gateway (a stream cut before the provider reported usage).\n`,
      );
  },
};

/**
 * `llm-gateway usage`: reads requests, tokens and cost from a running gateway's usage ledger (AdminService
 * GetUsage), filtered and grouped as the flags say, and prints a table with a TOTAL line, so operators can see
 * spend without SQL. Cost is shown from integer micro-dollars, exact. Returns the exit code: 0 done, 1 the
 * gateway refused, 2 bad usage.
 */
export function runUsageCommand(argv: readonly string[], io: AdminCliIo): Promise<number> {
  return runAdminCommand(usageCommand, argv, io);
}
