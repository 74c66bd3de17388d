import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BudgetPeriod as WirePeriod,
  UsageGroupBy,
  type ApiKeySchema,
  type Budget as WireBudget,
  type BudgetSchema,
  type UsageRowSchema,
} from "../../gen/llm/v1/admin_service_pb.js";
import type { ApiKeyRecord } from "../auth/api-key.js";
import type { Budget, BudgetPeriod } from "../usage/budget-period.js";
import type { UsageDimension, UsageTotals } from "../usage/usage-query.js";

const periodToWire: Readonly<Record<BudgetPeriod, WirePeriod>> = {
  total: WirePeriod.TOTAL,
  day: WirePeriod.DAY,
  month: WirePeriod.MONTH,
};

const dimensionOf: Readonly<Partial<Record<UsageGroupBy, UsageDimension>>> = {
  [UsageGroupBy.TENANT]: "tenant",
  [UsageGroupBy.KEY]: "key",
  [UsageGroupBy.MODEL]: "model",
  [UsageGroupBy.PROVIDER]: "provider",
  [UsageGroupBy.HOUR]: "hour",
  [UsageGroupBy.DAY]: "day",
};

const invalid = (message: string): ConnectError => new ConnectError(message, Code.InvalidArgument);

/** Conversions between the admin API's wire messages and the domain, rejecting bad input with INVALID_ARGUMENT. */
export const adminWire = {
  /** A domain budget from the wire (undefined when unset); `field` names it in errors. */
  budget(wire: WireBudget | undefined, field: string): Budget | undefined {
    if (wire === undefined) return undefined;
    if (wire.limitMicros <= 0n) throw invalid(`${field}.limit_micros must be positive`);
    if (wire.limitMicros > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${field}.limit_micros is too large`);
    const period = (Object.keys(periodToWire) as BudgetPeriod[]).find((p) => periodToWire[p] === wire.period);
    if (period === undefined)
      throw invalid(`${field}.period must be BUDGET_PERIOD_TOTAL, BUDGET_PERIOD_DAY or BUDGET_PERIOD_MONTH`);
    return { limitMicros: Number(wire.limitMicros), period };
  },

  budgetToWire(budget: Budget): MessageInitShape<typeof BudgetSchema> {
    return { limitMicros: BigInt(budget.limitMicros), period: periodToWire[budget.period] };
  },

  key(key: ApiKeyRecord, spentMicros: number): MessageInitShape<typeof ApiKeySchema> {
    return {
      id: key.id,
      tenant: key.tenant,
      name: key.name,
      models: [...key.models],
      ...(key.budget === undefined ? {} : { budget: adminWire.budgetToWire(key.budget) }),
      spentMicros: BigInt(spentMicros),
      revoked: key.revokedAt !== undefined,
      createTime: timestampFromMs(key.createdAt),
      secretPrefix: key.secretPrefix,
      requestsPerMinute: key.requestsPerMinute ?? 0,
      tokensPerMinute: key.tokensPerMinute ?? 0,
      ...(key.revokedAt === undefined ? {} : { revokeTime: timestampFromMs(key.revokedAt) }),
    };
  },

  groupBy(values: readonly UsageGroupBy[]): UsageDimension[] {
    return values.map((value, index) => {
      const dimension = dimensionOf[value];
      if (dimension === undefined) throw invalid(`group_by[${index}] must be set`);
      return dimension;
    });
  },

  usageRow(row: UsageTotals): MessageInitShape<typeof UsageRowSchema> {
    return {
      tenant: row.tenant,
      keyId: row.keyId,
      model: row.model,
      provider: row.provider,
      ...(row.periodStart === undefined ? {} : { periodStart: timestampFromMs(row.periodStart) }),
      requests: BigInt(row.requests),
      failedRequests: BigInt(row.failedRequests),
      promptTokens: BigInt(row.promptTokens),
      completionTokens: BigInt(row.completionTokens),
      cachedPromptTokens: BigInt(row.cachedPromptTokens),
      costMicros: BigInt(row.costMicros),
      costUnknownRequests: BigInt(row.costUnknownRequests),
      estimatedRequests: BigInt(row.estimatedRequests),
    };
  },
};
