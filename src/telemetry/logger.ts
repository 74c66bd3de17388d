import { pino, type Logger } from "pino";

/** Field paths whose values are replaced by `[REDACTED]` in every log line, however deep they sit. */
export const redactedPaths = [
  "apiKey",
  "*.apiKey",
  "*.*.apiKey",
  "authorization",
  "*.authorization",
  "*.*.authorization",
  "api-key",
  "*.api-key",
  "*.*.api-key",
  "x-api-key",
  "*.x-api-key",
  "*.*.x-api-key",
];

/** Options of the process logger. */
export interface LoggerOptions {
  level: string;
  /** Where lines go; stdout by default (tests pass a stream to read them). */
  destination?: NodeJS.WritableStream;
}

/** The gateway's structured JSON logger (pino), with credentials redacted at the logger. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: "llm-gateway" },
      redact: { paths: redactedPaths, censor: "[REDACTED]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}
