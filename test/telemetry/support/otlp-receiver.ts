import http from "node:http";
import { decodeTraceRequest } from "./otlp-protobuf.js";
import type { AttributeValue, ReceivedEvent, ReceivedSpan } from "./received-span.js";

/** One HTTP request the receiver got. */
export interface ReceivedRequest {
  path: string;
  contentType: string;
  /** The body as UTF-8 text (protobuf strings are UTF-8 too), for searching. */
  text: string;
}

/**
 * An in-process OTLP/HTTP collector on 127.0.0.1: accepts `/v1/traces` and `/v1/metrics` in JSON or
 * protobuf, as the real exporters send them, and keeps the decoded spans and every raw body.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  readonly requests: ReceivedRequest[] = [];
  /** Parsed `/v1/metrics` JSON bodies. */
  readonly metricBodies: unknown[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpReceiver> {
    let receiver: OtlpReceiver | undefined;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks);
        const contentType = request.headers["content-type"] ?? "";
        receiver?.receive(request.url ?? "", contentType, body);
        const json = contentType.includes("json");
        response
          .writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" })
          .end(json ? "{}" : "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("receiver is not listening");
    receiver = new OtlpReceiver(server, `http://127.0.0.1:${address.port}`);
    return receiver;
  }

  /** Everything received, as one string to search for secrets. */
  allText(): string {
    return this.requests.map((r) => r.text).join("\n");
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private receive(path: string, contentType: string, body: Buffer): void {
    this.requests.push({ path, contentType, text: body.toString("utf8") });
    const json = contentType.includes("json");
    if (path === "/v1/traces")
      this.spans.push(...(json ? fromJson(JSON.parse(body.toString("utf8"))) : decodeTraceRequest(body)));
    if (path === "/v1/metrics" && json) this.metricBodies.push(JSON.parse(body.toString("utf8")));
  }
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
interface JsonKeyValue {
  key: string;
  value: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: JsonKeyValue[];
  events?: { name: string; timeUnixNano: string | number; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface JsonTraceRequest {
  resourceSpans?: { resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: { spans?: JsonSpan[] }[] }[];
}

function jsonValue(value: JsonAnyValue): AttributeValue {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(jsonValue);
  return "";
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

function fromJson(request: JsonTraceRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const resource = jsonAttributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map(
        (s): ReceivedSpan => ({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: BigInt(s.startTimeUnixNano),
          endTimeUnixNano: BigInt(s.endTimeUnixNano),
          attributes: jsonAttributes(s.attributes),
          events: (s.events ?? []).map(
            (e): ReceivedEvent => ({
              name: e.name,
              timeUnixNano: BigInt(e.timeUnixNano),
              attributes: jsonAttributes(e.attributes),
            }),
          ),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
          resource,
        }),
      ),
    );
  });
}
