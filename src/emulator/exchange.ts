import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { EmulatedRequest, EmulatorRecord } from "./emulator.js";
import { errorBodies, type Problem } from "./error-bodies.js";
import type { Fault } from "./fault.js";
import { isRecord } from "./is-record.js";
import type { RateLimitSnapshot, RateLimitWindow } from "./rate-limit-window.js";
import { requestIds } from "./request-ids.js";
import { jsonContentType, responseHeaders, sseContentType } from "./response-headers.js";

/** What an exchange needs from the emulator that runs it. */
export interface ExchangeHost {
  readonly contextWindow: number;
  /** True once `close()` was called: sockets it destroys do not count as clients going away. */
  readonly closing: boolean;
  limiter(api: EmulatedRequest["api"]): RateLimitWindow;
}

interface MutableRecord extends EmulatorRecord {
  status: number;
  chunksSent: number;
  aborted: boolean;
  abortedAt: number | undefined;
}

/**
 * One request and its answer: builds every header (request ids, rate-limit state, fault retry hints), writes
 * JSON or SSE, counts content chunks, and notices when the client goes away (a response that closes before it
 * finished, other than by the emulator's own doing). Its record settles when the response closes either way.
 */
export class Exchange {
  readonly record: EmulatorRecord;
  readonly requestId: string;
  private readonly mutable: MutableRecord;
  private readonly startedAt = Date.now();
  private rate: RateLimitSnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wakeUp: ((open: boolean) => void) | undefined;
  private closedByEmulator = false;
  private isClosed = false;
  private fault: Fault = {};

  constructor(
    private readonly host: ExchangeHost,
    readonly request: EmulatedRequest,
    private readonly res: ServerResponse<IncomingMessage>,
    /** Azure: the deployment in the path; else "". */
    readonly deployment: string,
    /** Azure: the api-version query parameter; else "". */
    readonly apiVersion: string,
  ) {
    this.requestId =
      request.api === "openai"
        ? requestIds.openAi()
        : request.api === "azure"
          ? requestIds.azure()
          : requestIds.anthropic();
    let settle: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.mutable = { request, status: 0, chunksSent: 0, aborted: false, abortedAt: undefined, done };
    this.record = this.mutable;
    res.once("close", () => {
      this.isClosed = true;
      if (!res.writableFinished && !this.closedByEmulator && !host.closing) {
        this.mutable.aborted = true;
        this.mutable.abortedAt = performance.now();
      }
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.wakeUp?.(false);
      settle();
    });
  }

  /** True once the response was ended or closed (finished, dropped, or the client went away). */
  get closed(): boolean {
    return this.isClosed || this.res.writableEnded;
  }

  /** The fault in force; its retry hints go on every answer. */
  useFault(fault: Fault): void {
    this.fault = fault;
  }

  /** Resolves after `ms`, with false if the response closed meanwhile. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.wakeUp = undefined;
        resolve(!this.closed);
      }, ms);
    });
  }

  /** Runs `step` after `ms` unless the response closed meanwhile. */
  schedule(ms: number, step: () => void): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) step();
    }, ms);
  }

  /**
   * Charges the request to the API's rate limiter. False when over the limit, in which case the API's real
   * 429 (with retry-after) has been sent.
   */
  admit(tokens: number): boolean {
    const now = Date.now();
    const admission = this.host.limiter(this.request.api).admit(tokens, now);
    this.rate = admission.snapshot;
    if (admission.admitted) return true;
    const retryHeaders: OutgoingHttpHeaders = { "retry-after": String(Math.ceil(admission.retryAfterMs / 1000)) };
    if (this.request.api !== "anthropic") retryHeaders["retry-after-ms"] = String(admission.retryAfterMs);
    this.sendProblem({ kind: "rate_limited", rejection: admission }, retryHeaders);
    return false;
  }

  /** Sends a JSON answer. */
  sendJson(status: number, body: unknown, extraHeaders?: OutgoingHttpHeaders): void {
    if (this.closed) return;
    const payload = JSON.stringify(body);
    const headers = this.headers(status, jsonContentType, extraHeaders);
    headers["content-length"] = Buffer.byteLength(payload);
    this.mutable.status = status;
    this.res.writeHead(status, headers);
    const delayMs = this.fault.bodyDelayMs ?? 0;
    if (delayMs <= 0) {
      this.res.end(payload);
      return;
    }
    this.res.flushHeaders();
    this.schedule(delayMs, () => this.res.end(payload));
  }

  /** Sends the API's real error answer for `problem` (an injected status with the fault's `errorMessage`, if any). */
  sendProblem(problem: Problem, extraHeaders?: OutgoingHttpHeaders): void {
    const { status, body } = errorBodies(this.request.api, problem, {
      model: this.request.model,
      operation: this.request.operation,
      requestId: this.requestId,
      contextWindow: this.host.contextWindow,
      apiVersion: this.apiVersion,
    });
    const message = problem.kind === "fault" ? this.fault.errorMessage : undefined;
    this.sendJson(status, message === undefined ? body : withErrorMessage(body, message), extraHeaders);
  }

  /** Sends status 200 with SSE headers and the frames that precede the content. */
  beginStream(head: string): void {
    this.mutable.status = 200;
    this.res.writeHead(200, this.headers(200, sseContentType));
    if (head !== "") this.res.write(head);
  }

  /** Writes one content chunk (one token) and counts it. */
  writeChunk(frame: string): void {
    this.res.write(frame);
    this.mutable.chunksSent++;
  }

  /** Writes frames that are not content (closing events, an error event). */
  write(frames: string): void {
    if (frames !== "") this.res.write(frames);
  }

  /** Ends the response cleanly. */
  end(): void {
    this.res.end();
  }

  /**
   * Closes the connection without ending the response, as a failing upstream does: the chunks written so far
   * are flushed, then the socket ends with the chunked body unterminated.
   */
  drop(): void {
    this.closedByEmulator = true;
    const socket = this.res.socket;
    if (socket === null) this.res.destroy();
    else socket.end();
  }

  private headers(status: number, contentType: string, extraHeaders?: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const now = Date.now();
    const headers = responseHeaders({
      api: this.request.api,
      status,
      contentType,
      requestId: this.requestId,
      rate: this.rate ?? this.host.limiter(this.request.api).snapshot(now),
      now,
      startedAt: this.startedAt,
      deployment: this.deployment,
    });
    if (this.fault.retryAfterSeconds !== undefined) headers["retry-after"] = String(this.fault.retryAfterSeconds);
    if (this.fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(this.fault.retryAfterMs);
    return extraHeaders === undefined ? headers : Object.assign(headers, extraHeaders);
  }
}

/** An error body (every API's has its message at `error.message`) with another message. */
function withErrorMessage(body: unknown, message: string): unknown {
  if (!isRecord(body) || !isRecord(body.error)) return body;
  return { ...body, error: { ...body.error, message } };
}
