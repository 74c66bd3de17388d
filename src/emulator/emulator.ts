import { createServer, type IncomingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { Fault } from "./fault.js";
import { RateLimitWindow, type RateLimits } from "./rate-limit-window.js";
import { handleRequest, type RequestHost } from "./request-handler.js";

/** The provider APIs the emulator speaks. */
export type ApiKind = "openai" | "azure" | "anthropic";

/** What a request asks for. */
export type Operation = "chat" | "completion" | "embedding" | "models" | "messages";

/** A request as the emulator understood it; per-run fault functions decide from it. */
export interface EmulatedRequest {
  api: ApiKind;
  operation: Operation;
  /** The model in the body; Azure: the deployment in the path. "" when there is none. */
  model: string;
  stream: boolean;
  /** The request target as received, query included. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined for GET or a body that is not JSON. */
  body: unknown;
}

/** One exchange the emulator took part in, for tests to inspect. */
export interface EmulatorRecord {
  request: EmulatedRequest;
  /** The HTTP status sent; 0 while (or if) no headers were sent. */
  status: number;
  /** Content chunks (tokens) written to a stream. */
  chunksSent: number;
  /** The client went away before the answer ended (not set by injected drops or by `close()`). */
  aborted: boolean;
  /** When the emulator saw the client go away (`performance.now()` of its process), if `aborted`. */
  abortedAt: number | undefined;
  /** Settles when the exchange ends either way. */
  done: Promise<void>;
}

/** A fault for every request, or a function choosing one per request (undefined: no fault). */
export type FaultSetting = Fault | ((request: EmulatedRequest) => Fault | undefined);

/** How to start an emulator. */
export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** If set, the only key accepted; else any non-empty key. */
  apiKey?: string;
  /** Per-run fault; an `x-emulator-fault` request header replaces it for that request. */
  fault?: FaultSetting;
  /** Prompts with more tokens are refused as too long. Default 128000. */
  contextWindow?: number;
  /** Delay between stream chunks unless a fault says otherwise. Default 0. */
  chunkDelayMs?: number;
  /** Sliding 60-second limits per API; unset dimensions are reported but not enforced. */
  limits?: RateLimits;
  /** Records kept (the oldest are dropped beyond it), so long benchmarks do not grow memory. Default 10000. */
  maxRecords?: number;
}

/** A running emulator. */
export interface Emulator {
  /** `http://HOST:PORT`. OpenAI clients use `${url}/v1`; Azure's endpoint and Anthropic's baseURL are `url`. */
  readonly url: string;
  readonly port: number;
  readonly records: readonly EmulatorRecord[];
  /** Replaces the per-run fault. */
  setFault(fault: EmulatorOptions["fault"]): void;
  /** Clears the records and the rate limiters. */
  reset(): void;
  /** Stops listening and ends every connection, hung requests included. */
  close(): Promise<void>;
}

const defaultContextWindow = 128_000;
const defaultMaxRecords = 10_000;

/**
 * Starts a provider emulator: one HTTP/1.1 server speaking the OpenAI, Azure OpenAI and Anthropic APIs with
 * deterministic answers, real error bodies and headers, rate limits and injectable faults, so the real SDKs
 * and the gateway's adapters can be exercised without the internet.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const sockets = new Set<Socket>();
  const records: EmulatorRecord[] = [];
  const limiters = new Map<ApiKind, RateLimitWindow>();
  const maxRecords = options.maxRecords ?? defaultMaxRecords;
  let faultSetting = options.fault;
  let closing = false;

  const host: RequestHost = {
    contextWindow: options.contextWindow ?? defaultContextWindow,
    chunkDelayMs: options.chunkDelayMs ?? 0,
    apiKey: options.apiKey,
    get closing() {
      return closing;
    },
    limiter(api) {
      let limiter = limiters.get(api);
      if (limiter === undefined) {
        limiter = new RateLimitWindow(options.limits);
        limiters.set(api, limiter);
      }
      return limiter;
    },
    runFault(request) {
      return typeof faultSetting === "function" ? faultSetting(request) : faultSetting;
    },
    addRecord(record) {
      records.push(record);
      if (records.length > maxRecords) records.shift();
    },
  };

  const server = createServer((req, res) => {
    handleRequest(host, req, res).catch(() => res.destroy());
  });
  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the emulator is not listening on a TCP port");
  const hostName = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${hostName}:${address.port}`;

  return {
    url,
    port: address.port,
    records,
    setFault(fault) {
      faultSetting = fault;
    },
    reset() {
      records.length = 0;
      for (const limiter of limiters.values()) limiter.reset();
    },
    close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    },
  };
}
