import { HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

type Listener = (status: Status) => void;

/**
 * Serving status per service name, as grpc.health.v1.Health reports it: "" is the whole server,
 * "llm.v1.LLMService" the API, and providers register under their own names. Watchers hear every change.
 */
export class HealthRegistry {
  readonly #statuses = new Map<string, Status>();
  readonly #listeners = new Map<string, Set<Listener>>();

  set(service: string, status: Status): void {
    if (this.#statuses.get(service) === status) return;
    this.#statuses.set(service, status);
    for (const listener of this.#listeners.get(service) ?? []) listener(status);
  }

  /** The status of a service; undefined when no such service is registered. */
  get(service: string): Status | undefined {
    return this.#statuses.get(service);
  }

  entries(): IterableIterator<[string, Status]> {
    return this.#statuses.entries();
  }

  /** Marks every service NOT_SERVING, as on shutdown. */
  shutdown(): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, Status.NOT_SERVING);
  }

  /** Calls `listener` on each change of `service` until the returned function is called. */
  watch(service: string, listener: Listener): () => void {
    let set = this.#listeners.get(service);
    if (!set) {
      set = new Set();
      this.#listeners.set(service, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }
}
