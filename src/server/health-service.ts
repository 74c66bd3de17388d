import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";
import type { HealthRegistry } from "./health-registry.js";

/** Registers the standard grpc.health.v1.Health service (Check, List, Watch) over a HealthRegistry. */
export function registerHealthService(router: ConnectRouter, registry: HealthRegistry): void {
  router.service(Health, {
    check(request) {
      const status = registry.get(request.service);
      if (status === undefined) throw new ConnectError(`unknown service "${request.service}"`, Code.NotFound);
      return { status };
    },

    list() {
      return { statuses: Object.fromEntries([...registry.entries()].map(([name, status]) => [name, { status }])) };
    },

    async *watch(request, context) {
      const pending: Status[] = [registry.get(request.service) ?? Status.SERVICE_UNKNOWN];
      let wake: (() => void) | undefined;
      const stop = registry.watch(request.service, (status) => {
        pending.push(status);
        wake?.();
      });
      const aborted = new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
      try {
        while (!context.signal.aborted) {
          const status = pending.shift();
          if (status !== undefined) {
            yield { status };
            continue;
          }
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
          wake = undefined;
        }
      } finally {
        stop();
      }
    },
  });
}
