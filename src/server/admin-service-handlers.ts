import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import { AdminService } from "../../gen/llm/v1/admin_service_pb.js";
import type { ApiKeyRecord } from "../auth/api-key.js";
import type { KeyRegistry } from "../auth/key-registry.js";
import { keySecret } from "../auth/key-secret.js";
import type { Secret } from "../config/secret.js";
import type { BudgetBook } from "../usage/budget-book.js";
import type { UsageFilter, UsageTotals } from "../usage/usage-query.js";
import { adminWire } from "./admin-wire.js";

/** What the admin service serves from; absent `auth` (key checking off) every call fails FAILED_PRECONDITION. */
export interface AdminServiceDeps {
  auth: { adminKey: Secret; registry: KeyRegistry } | undefined;
  book: BudgetBook;
  /** The model names clients may ask for, to check a key's `models`. */
  modelNames: ReadonlySet<string>;
  /** Reads the ledger, once what finished calls have recorded is written. */
  usage(filter: UsageFilter): Promise<UsageTotals[]>;
}

const limitOf = (value: number, field: string): number | undefined => {
  if (value < 0) throw new ConnectError(`${field} must not be negative`, Code.InvalidArgument);
  return value === 0 ? undefined : value;
};

/**
 * Registers AdminService: keys, tenant budgets and usage. Every call must carry the admin key as
 * `authorization: Bearer <key>` (compared in constant time); the handlers then only convert between the
 * wire and the key registry, the budget book and the ledger.
 */
export function registerAdminService(router: ConnectRouter, deps: AdminServiceDeps): void {
  const admin = (context: HandlerContext): KeyRegistry => {
    if (deps.auth === undefined) {
      throw new ConnectError(
        "the admin API needs auth.adminKey in the gateway's config (key checking is off)",
        Code.FailedPrecondition,
      );
    }
    const presented = keySecret.bearer(context.requestHeader.get("authorization"));
    if (presented === undefined || !keySecret.matches(presented, deps.auth.adminKey.reveal())) {
      throw new ConnectError(
        "the admin API needs the admin key: authorization: Bearer <auth.adminKey>",
        Code.Unauthenticated,
      );
    }
    return deps.auth.registry;
  };
  const spentOf = (key: ApiKeyRecord): number => deps.book.spent(`key:${key.id}`, key.budget?.period ?? "total");

  router.service(AdminService, {
    createKey(request, context) {
      const registry = admin(context);
      if (request.tenant.trim() === "") throw new ConnectError("tenant is required", Code.InvalidArgument);
      if (request.name.trim() === "") throw new ConnectError("name is required", Code.InvalidArgument);
      const unknown = request.models.filter((m) => !deps.modelNames.has(m));
      if (unknown.length > 0)
        throw new ConnectError(
          `models: unknown model ${unknown.map((m) => `"${m}"`).join(", ")}`,
          Code.InvalidArgument,
        );
      const { key, secret } = registry.create({
        tenant: request.tenant,
        name: request.name,
        models: [...new Set(request.models)],
        budget: adminWire.budget(request.budget, "budget"),
        requestsPerMinute: limitOf(request.requestsPerMinute, "requests_per_minute"),
        tokensPerMinute: limitOf(request.tokensPerMinute, "tokens_per_minute"),
      });
      return { key: adminWire.key(key, 0), secret };
    },

    revokeKey(request, context) {
      const key = admin(context).revoke(request.id);
      if (key === undefined) throw new ConnectError(`no key ${request.id}`, Code.NotFound);
      return { key: adminWire.key(key, spentOf(key)) };
    },

    listKeys(request, context) {
      const keys = admin(context)
        .keys()
        .filter(
          (k) =>
            (request.tenant === "" || k.tenant === request.tenant) &&
            (request.includeRevoked || k.revokedAt === undefined),
        );
      return { keys: keys.map((k) => adminWire.key(k, spentOf(k))) };
    },

    setTenantBudget(request, context) {
      const registry = admin(context);
      if (request.tenant.trim() === "") throw new ConnectError("tenant is required", Code.InvalidArgument);
      const budget = adminWire.budget(request.budget, "budget");
      registry.setTenantBudget(request.tenant, budget);
      return {
        tenantBudget: {
          tenant: request.tenant,
          ...(budget === undefined ? {} : { budget: adminWire.budgetToWire(budget) }),
          spentMicros: BigInt(deps.book.spent(`tenant:${request.tenant}`, budget?.period ?? "total")),
        },
      };
    },

    listTenantBudgets(_request, context) {
      const registry = admin(context);
      return {
        tenantBudgets: [...registry.tenantBudgets()].map(([tenant, budget]) => ({
          tenant,
          budget: adminWire.budgetToWire(budget),
          spentMicros: BigInt(deps.book.spent(`tenant:${tenant}`, budget.period)),
        })),
      };
    },

    async getUsage(request, context) {
      admin(context);
      const rows = await deps.usage({
        tenant: request.tenant,
        keyId: request.keyId,
        model: request.model,
        provider: request.provider,
        ...(request.startTime === undefined ? {} : { since: timestampMs(request.startTime) }),
        ...(request.endTime === undefined ? {} : { until: timestampMs(request.endTime) }),
        groupBy: adminWire.groupBy(request.groupBy),
      });
      return { rows: rows.map(adminWire.usageRow) };
    },
  });
}
