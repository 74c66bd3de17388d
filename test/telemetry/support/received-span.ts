/** An attribute value as OTLP carries it. */
export type AttributeValue = string | number | boolean | AttributeValue[];

/** A span event as the test receiver decoded it. */
export interface ReceivedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
}

/** A span as the test receiver decoded it from an OTLP export (JSON or protobuf); ids in lowercase hex. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP span kind: 1 internal, 2 server, 3 client. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, AttributeValue>;
  events: ReceivedEvent[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, AttributeValue>;
}

/** OTLP span kinds. */
export const spanKind = { internal: 1, server: 2, client: 3 } as const;
