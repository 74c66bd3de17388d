import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import type { HealthRegistry } from "./health-registry.js";

/** Longest service name accepted: real ones are a few dozen characters ("llm.v1.LLMService"). */
export const maxServiceNameLength = 256;
/**
 * The largest Health request message: a service name of at most maxServiceNameLength UTF-16 units is at most
 * 3 bytes a unit in UTF-8 (768) and 6 in JSON escapes (1,536), plus framing. A larger request is refused from
 * its declared size, before it is read or decoded: 300 watches with 1 MB names cost nothing.
 */
export const healthRequestLimit = {
  maxBytes: 2048,
  name: "the grpc.health.v1 limit",
  reason: `a service name has at most ${String(maxServiceNameLength)} characters`,
} as const;
/** Watch calls open at once over all callers. */
export const maxHealthWatchers = 1_000;

function checkName(service: string): void {
  if (service.length > maxServiceNameLength) {
    throw new ConnectError(
      `service: ${service.length} characters, the limit is ${maxServiceNameLength}`,
      Code.InvalidArgument,
    );
  }
}

/**
 * Registers the standard grpc.health.v1.Health service (Check, List, Watch) over a HealthRegistry. Names are
 * bounded in length and watchers in number; Watch streams end when the registry closes (shutdown).
 */
export function registerHealthService(router: ConnectRouter, registry: HealthRegistry): void {
  router.service(Health, {
    check(request) {
      checkName(request.service);
      const status = registry.get(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return { status };
    },

    list() {
      return { statuses: Object.fromEntries([...registry.entries()].map(([name, status]) => [name, { status }])) };
    },

    async *watch(request, context) {
      checkName(request.service);
      if (registry.watchers >= maxHealthWatchers) {
        throw new ConnectError(`${maxHealthWatchers} Watch calls are open; retry later`, Code.ResourceExhausted);
      }
      const pending: Status[] = [registry.get(request.service) ?? Status.SERVICE_UNKNOWN];
      let wake: (() => void) | undefined;
      const stop = registry.watch(
        request.service,
        (status) => {
          pending.push(status);
          wake?.();
        },
        () => wake?.(),
      );
      const aborted = new Promise<void>((resolve) =>
        context.signal.addEventListener("abort", () => resolve(), { once: true }),
      );
      try {
        while (!context.signal.aborted) {
          const status = pending.shift();
          if (status !== undefined) {
            yield { status };
            continue;
          }
          if (registry.closed) return;
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
          wake = undefined;
        }
      } finally {
        stop();
      }
    },
  });
}
