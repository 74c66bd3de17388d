import { format } from "node:util";
import type { Logger } from "pino";
import { scrubSecrets } from "../providers/scrub-secrets.js";

/** Distinct texts remembered for de-duplication; past this, repeats are logged again rather than kept forever. */
const maxRemembered = 256;

/**
 * Sends what libraries print with `console.warn` and `console.error` to the gateway's JSON log, once per
 * distinct text, at warn. Without it a provider SDK's notices (Anthropic's SDK warns on every call to a
 * deprecated model) reach stderr as raw text, once per request, outside the log pipeline. The gateway itself
 * never writes to the console; only `serve` installs this. Returns a function that puts the console back.
 */
export function routeLibraryConsole(logger: Logger): () => void {
  const { warn, error } = console;
  const seen = new Set<string>();
  const toLog = (...args: unknown[]): void => {
    const text = scrubSecrets(format(...args));
    if (seen.has(text)) return;
    if (seen.size >= maxRemembered) seen.clear();
    seen.add(text);
    logger.warn({ text }, "a library printed a warning");
  };
  console.warn = toLog;
  console.error = toLog;
  return () => {
    console.warn = warn;
    console.error = error;
  };
}
