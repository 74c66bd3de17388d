import { inspect } from "node:util";
import { z } from "zod";

const redacted = "[REDACTED]";

/**
 * A credential read from the environment or a file. It prints as `[REDACTED]` in logs, JSON and
 * `util.inspect`, so a config object can be logged whole; only `reveal()` gives the value, and only an
 * adapter building its SDK client calls it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The credential itself. Call it only where it goes on the wire. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return redacted;
  }

  toJSON(): string {
    return redacted;
  }

  [inspect.custom](): string {
    return redacted;
  }
}

/**
 * A config value that may be written in the file (a Redis URL with a password, an extra header's value) but is
 * kept as a Secret once parsed, so that it prints as `[REDACTED]` like the keys.
 */
export const secretText = z.union([z.instanceof(Secret), z.string().transform((value) => new Secret(value))]);
