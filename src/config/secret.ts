import { inspect } from "node:util";

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
