/**
 * Calls `onGone` once when the process that started this one has gone (this process was re-parented), checking
 * every `intervalMs` on a timer that never keeps the process alive. Used when a wrapper that does not pass
 * signals on (npm's `sh -c`) started the gateway: its end is the stop signal. Returns a function that stops
 * watching.
 */
export function watchParent(
  onGone: () => void,
  intervalMs = 500,
  parentPid: () => number = () => process.ppid,
): () => void {
  const original = parentPid();
  const timer = setInterval(() => {
    if (parentPid() === original) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
