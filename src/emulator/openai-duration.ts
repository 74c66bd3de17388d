/**
 * A Go-style duration as OpenAI writes it in `x-ratelimit-reset-*` headers and rate-limit messages:
 * `0s`, `6ms`, `1.5s`, `1m0s`.
 */
export function openAiDuration(ms: number): string {
  if (ms <= 0) return "0s";
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round(ms - minutes * 60_000) / 1000;
  return `${minutes > 0 ? `${minutes}m` : ""}${seconds}s`;
}
