import http from "node:http";
import type { AddressInfo } from "node:net";
import { ConnectError } from "@connectrpc/connect";
import { BudgetPeriod } from "../../gen/llm/v1/admin_service_pb.js";
import { ErrorDetailSchema, Role } from "../../gen/llm/v1/llm_service_pb.js";
import type { Harness } from "./gateway-harness.js";

/** The admin key the cost-control tests configure. */
export const adminKey = "admin-key-for-tests-0123456789";

/** Call options carrying a bearer token. */
export const bearer = (token: string): { headers: { authorization: string } } => ({
  headers: { authorization: `Bearer ${token}` },
});

/** The CreateKeyRequest fields a test may set. */
export interface KeyFields {
  tenant?: string;
  name?: string;
  models?: string[];
  budget?: { limitMicros: bigint; period: BudgetPeriod };
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** Creates a client key through the admin API; returns its id and secret. */
export async function createKey(h: Harness, request: KeyFields = {}): Promise<{ id: string; secret: string }> {
  const created = await h.admin.createKey({ tenant: "acme", name: "svc", ...request }, bearer(adminKey));
  return { id: created.key?.id ?? "", secret: created.secret };
}

/** A total budget of `micros`. */
export const totalBudget = (micros: bigint): { limitMicros: bigint; period: BudgetPeriod } => ({
  limitMicros: micros,
  period: BudgetPeriod.TOTAL,
});

/** A one-message chat request. */
export const chatRequest = (model: string, content: string, maxTokens?: number) => ({
  model,
  messages: [{ role: Role.USER, content }],
  ...(maxTokens === undefined ? {} : { options: { maxTokens } }),
});

/** The outcome of a call that may fail: the response or the ConnectError. */
export async function settle<T>(call: Promise<T>): Promise<{ ok: T } | { error: ConnectError }> {
  try {
    return { ok: await call };
  } catch (error) {
    return { error: ConnectError.from(error) };
  }
}

/** The ErrorDetail kind of a ConnectError. */
export function kindOf(error: ConnectError): string | undefined {
  return error.findDetails(ErrorDetailSchema)[0]?.kind;
}

/** A local webhook receiver that keeps every JSON body POSTed to it. */
export interface WebhookReceiver {
  url: string;
  bodies: Record<string, unknown>[];
  /** Resolves once `count` bodies arrived (fails after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a webhook receiver on 127.0.0.1; `status` decides each answer (default 204). */
export async function startWebhookReceiver(status: (index: number) => number = () => 204): Promise<WebhookReceiver> {
  const bodies: Record<string, unknown>[] = [];
  let received = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const code = status(received++);
      if (code < 300) bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
      response.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    async waitFor(count, timeoutMs = 5_000) {
      const until = Date.now() + timeoutMs;
      while (bodies.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} webhook bodies, got ${bodies.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
