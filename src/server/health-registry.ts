import { HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

type Listener = (status: Status) => void;

/**
 * Serving status per service name, as grpc.health.v1.Health reports it: "" is the whole server,
 * "llm.v1.LLMService" the API, and providers register under their own names. Watchers hear every change.
 * Only registered services are stored: a watcher of an unknown name holds one listener entry, removed
 * when it stops watching, so callers cannot make the registry grow.
 */
export class HealthRegistry {
  readonly #statuses = new Map<string, Status>();
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #closed = new Set<() => void>();
  #watchers = 0;
  #isClosed = false;

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

  /** Watch calls open now. */
  get watchers(): number {
    return this.#watchers;
  }

  /** Whether close() was called: Watch streams end, new ones end at once. */
  get closed(): boolean {
    return this.#isClosed;
  }

  /** Marks every service NOT_SERVING, as on shutdown (watchers hear it; the registry stays open). */
  shutdown(): void {
    for (const service of [...this.#statuses.keys()]) this.set(service, Status.NOT_SERVING);
  }

  /** Ends every Watch stream (after they heard NOT_SERVING): the server is about to stop. */
  close(): void {
    this.#isClosed = true;
    for (const end of [...this.#closed]) end();
  }

  /**
   * Calls `listener` on each change of `service`, and `onClose` when the registry closes, until the returned
   * function is called.
   */
  watch(service: string, listener: Listener, onClose: () => void): () => void {
    let set = this.#listeners.get(service);
    if (!set) {
      set = new Set();
      this.#listeners.set(service, set);
    }
    set.add(listener);
    this.#closed.add(onClose);
    this.#watchers += 1;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.#watchers -= 1;
      this.#closed.delete(onClose);
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(service) === set) this.#listeners.delete(service);
    };
  }

  /** Service names with at least one watcher (for tests and diagnostics). */
  watchedNames(): number {
    return this.#listeners.size;
  }
}
