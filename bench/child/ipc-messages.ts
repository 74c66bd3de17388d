/** A child reporting that it serves: the gateway once `serve` returned, the emulator once it listens. */
export interface ReadyMessage {
  type: "ready";
  /** Where it listens (the emulator's URL; the gateway's is chosen by the parent). */
  url: string;
  /** The child's `performance.now()` when ready: milliseconds since its process started. */
  sinceProcessStartMs: number;
}

/** The parent asking for the child's resource use. */
export interface StatsRequest {
  type: "stats";
  id: number;
}

/** The child's answer: its own cumulative CPU time and current memory. */
export interface StatsReply {
  type: "stats";
  id: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  heapUsedBytes: number;
}

/** The parent asking the child to stop cleanly (so `--cpu-prof` profiles are written). */
export interface StopRequest {
  type: "stop";
}

/** Messages a benchmark child sends. */
export type ChildMessage = ReadyMessage | StatsReply;
/** Messages a benchmark child receives. */
export type ParentMessage = StatsRequest | StopRequest;
