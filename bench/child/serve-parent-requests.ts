import type { ParentMessage, StatsReply } from "./ipc-messages.js";

function isParentMessage(message: unknown): message is ParentMessage {
  return (
    typeof message === "object" &&
    message !== null &&
    "type" in message &&
    (message.type === "stats" || message.type === "stop")
  );
}

/**
 * The IPC side of every benchmark child: answers `stats` with the process's own cumulative CPU time and memory
 * (so the figures are the child's alone, not the load driver's) and calls `stop` on a `stop` request.
 */
export function serveParentRequests(stop: () => void): void {
  process.on("message", (message: unknown) => {
    if (!isParentMessage(message)) return;
    if (message.type === "stop") {
      stop();
      return;
    }
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    const reply: StatsReply = {
      type: "stats",
      id: message.id,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
    };
    process.send?.(reply);
  });
}
