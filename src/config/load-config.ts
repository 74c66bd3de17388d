import { readFileSync } from "node:fs";
import { resolve, dirname } from "node:path";
import { parse as parseYaml } from "yaml";
import { configSchema, type GatewayConfig } from "./config-schema.js";
import { Secret } from "./secret.js";

/** The environment the config may reference: `process.env` by default, a plain object in tests. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** A configuration that cannot be used, with every problem named by its path (`providers[1].apiKey: ...`). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

const envReference = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
/** Values that must be references (`${ENV}` or `file:PATH`) and become Secrets: keys and TLS material. */
const secretKeys = new Set(["apiKey", "adminKey", "certificate", "privateKey", "clientCa"]);

/** Reads, substitutes and validates a YAML config file. Throws ConfigError naming each bad field. */
export function loadConfigFile(path: string, env: Environment = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError([`${path}: cannot read (${error instanceof Error ? error.message : String(error)})`]);
  }
  return parseConfigText(text, { env, baseDir: dirname(resolve(path)) });
}

/** Parses YAML text as a config; `file:` references resolve against `baseDir`. */
export function parseConfigText(text: string, options: { env?: Environment; baseDir?: string } = {}): GatewayConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError([`YAML: ${error instanceof Error ? error.message : String(error)}`]);
  }
  return parseConfigObject(raw, options);
}

/**
 * Validates a config tree (as parsed from YAML or built in code). Strings get `${VAR}` / `${VAR:-default}`
 * substitution; `apiKey` values must be a reference (`${VAR}` or `file:PATH`), never a literal key, and
 * become Secrets.
 */
export function parseConfigObject(raw: unknown, options: { env?: Environment; baseDir?: string } = {}): GatewayConfig {
  const problems: string[] = [];
  const context = { env: options.env ?? process.env, baseDir: options.baseDir ?? process.cwd(), problems };
  const substituted = substitute(raw, [], context);
  const result = configSchema.safeParse(substituted);
  if (!result.success) {
    // A field substitution already explained (a literal key, a missing variable) is not explained again.
    const explained = new Set(problems.map((problem) => problem.slice(0, problem.indexOf(": "))));
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      if (!explained.has(path)) problems.push(`${path}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

interface SubstituteContext {
  env: Environment;
  baseDir: string;
  problems: string[];
}

function substitute(value: unknown, path: PropertyKey[], context: SubstituteContext): unknown {
  if (typeof value === "string") {
    const key = path[path.length - 1];
    return typeof key === "string" && secretKeys.has(key)
      ? resolveSecret(value, path, context)
      : expand(value, path, context);
  }
  if (Array.isArray(value)) return value.map((item, i) => substitute(item, [...path, i], context));
  if (value !== null && typeof value === "object" && !(value instanceof Secret)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, [...path, k], context)]));
  }
  return value;
}

function expand(value: string, path: PropertyKey[], context: SubstituteContext): string {
  return value.replace(envReference, (_match, name: string, fallback: string | undefined) => {
    const found = context.env[name];
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    context.problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
    return "";
  });
}

function resolveSecret(value: string, path: PropertyKey[], context: SubstituteContext): Secret | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith("file:")) {
    const file = resolve(context.baseDir, trimmed.slice("file:".length));
    try {
      const content = readFileSync(file, "utf8").trim();
      if (content === "") context.problems.push(`${formatPath(path)}: ${file} is empty`);
      return new Secret(content);
    } catch {
      context.problems.push(`${formatPath(path)}: cannot read ${file}`);
      return undefined;
    }
  }
  envReference.lastIndex = 0;
  if (!envReference.test(trimmed)) {
    context.problems.push(`${formatPath(path)}: write a reference (\${ENV_VAR} or file:PATH), never the key itself`);
    return undefined;
  }
  envReference.lastIndex = 0;
  const expanded = expand(trimmed, path, context);
  return new Secret(expanded);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("");
}
