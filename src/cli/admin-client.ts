import { ConnectError, createClient, type CallOptions, type Client } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/llm/v1/admin_service_pb.js";
import { adminCliEnv } from "../config/admin-cli-env.js";

/** Where an admin command writes (injected so tests capture the output) and the environment it reads. */
export interface AdminCliIo {
  /** Standard output; each call passes whole lines, newline included. */
  print: (text: string) => void;
  /** Standard error, for usage and failures. */
  printError: (text: string) => void;
  /** The environment holding LLM_GATEWAY_ADMIN_KEY (default: the process's). */
  env?: NodeJS.ProcessEnv;
}

/** An AdminService client and the call options (admin key, deadline) every call must pass. */
export interface AdminConnection {
  client: Client<typeof AdminService>;
  options: CallOptions;
}

/** One admin CLI command: how it reads its arguments and what it calls and prints. */
export interface AdminCommand<T> {
  /** Printed to stderr with argument errors, to stdout for `--help`. */
  usage: string;
  /** Parses the arguments; throws an Error whose message says what is wrong; "help" when help was asked for. */
  parse(argv: readonly string[]): { url: string | undefined; args: T } | "help";
  /** Makes the admin calls and prints their results; ConnectErrors propagate. */
  run(admin: AdminConnection, args: T, print: (text: string) => void): Promise<void>;
}

/** The gateway's address when `--url` is not given (the default `server.port` on this machine). */
export const defaultAdminUrl = "http://127.0.0.1:50051";

/** How long one admin call may take before the CLI gives up. */
const callTimeoutMs = 30_000;

/**
 * Runs an admin command against a running gateway and returns the process exit code: 2 for bad arguments or a
 * missing LLM_GATEWAY_ADMIN_KEY (with the usage text or the variable's name on stderr), 1 when the gateway
 * answers with an error (`llm-gateway: <code>: <message>`), 0 otherwise. It is the one place that builds the
 * AdminService client (Connect over HTTP/1.1, which every gateway port serves) and attaches the admin key as
 * `authorization: Bearer <key>`, so no command can forget it.
 */
export async function runAdminCommand<T>(
  command: AdminCommand<T>,
  argv: readonly string[],
  io: AdminCliIo,
): Promise<number> {
  let parsed: { url: string; args: T };
  try {
    const result = command.parse(argv);
    if (result === "help") {
      io.print(`${command.usage}\n`);
      return 0;
    }
    parsed = { url: gatewayUrl(result.url ?? defaultAdminUrl), args: result.args };
  } catch (error) {
    io.printError(`llm-gateway: ${error instanceof Error ? error.message : String(error)}\n${command.usage}\n`);
    return 2;
  }
  const { adminKey } = adminCliEnv(io.env);
  if (adminKey === undefined) {
    io.printError(
      "llm-gateway: LLM_GATEWAY_ADMIN_KEY is not set: set it to the gateway's admin key (auth.adminKey in its config)\n",
    );
    return 2;
  }
  const client = createClient(AdminService, createConnectTransport({ baseUrl: parsed.url, httpVersion: "1.1" }));
  const options: CallOptions = { headers: { authorization: `Bearer ${adminKey}` }, timeoutMs: callTimeoutMs };
  try {
    await command.run({ client, options }, parsed.args, io.print);
    return 0;
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    io.printError(`llm-gateway: ${codeToString(error.code)}: ${error.rawMessage}\n`);
    return 1;
  }
}

/** Checks `--url`: an http(s) URL (the gateway serves no other scheme). */
function gatewayUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`--url: not a URL: ${text}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new RangeError(`--url: must be http:// or https://, not ${text}`);
  return text.replace(/\/+$/, "");
}
