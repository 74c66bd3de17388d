import type { AttributeValue, ReceivedEvent, ReceivedSpan } from "./received-span.js";

/** One field occurrence of a protobuf message: a varint/fixed number or a length-delimited byte range. */
type Field = { wire: 0 | 1 | 5; value: bigint } | { wire: 2; bytes: Uint8Array };

/** Splits one protobuf message into its fields by number (wire format only; the schema is applied below). */
function fields(bytes: Uint8Array): Map<number, Field[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const result = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error("truncated varint");
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const wire = key & 7;
    let field: Field;
    if (wire === 0) field = { wire, value: varint() };
    else if (wire === 1) {
      field = { wire, value: view.getBigUint64(at, true) };
      at += 8;
    } else if (wire === 5) {
      field = { wire, value: BigInt(view.getUint32(at, true)) };
      at += 4;
    } else if (wire === 2) {
      const length = Number(varint());
      field = { wire, bytes: bytes.subarray(at, at + length) };
      at += length;
    } else throw new Error(`unsupported wire type ${wire}`);
    const list = result.get(key >>> 3) ?? [];
    list.push(field);
    result.set(key >>> 3, list);
  }
  return result;
}

const messages = (m: Map<number, Field[]>, n: number): Uint8Array[] =>
  (m.get(n) ?? []).flatMap((f) => (f.wire === 2 ? [f.bytes] : []));
const message = (m: Map<number, Field[]>, n: number): Uint8Array => messages(m, n)[0] ?? new Uint8Array();
const text = (m: Map<number, Field[]>, n: number): string => new TextDecoder().decode(message(m, n));
const hex = (m: Map<number, Field[]>, n: number): string => Buffer.from(message(m, n)).toString("hex");
const number = (m: Map<number, Field[]>, n: number): bigint => {
  const field = m.get(n)?.[0];
  return field === undefined || field.wire === 2 ? 0n : field.value;
};

function anyValue(bytes: Uint8Array): AttributeValue {
  const m = fields(bytes);
  if (m.has(1)) return text(m, 1);
  if (m.has(2)) return number(m, 2) !== 0n;
  if (m.has(3)) return Number(BigInt.asIntN(64, number(m, 3)));
  if (m.has(4)) {
    const buffer = new DataView(new ArrayBuffer(8));
    buffer.setBigUint64(0, number(m, 4), true);
    return buffer.getFloat64(0, true);
  }
  if (m.has(5)) return messages(fields(message(m, 5)), 1).map(anyValue);
  return "";
}

function attributes(list: Uint8Array[]): Record<string, AttributeValue> {
  return Object.fromEntries(list.map((kv) => fields(kv)).map((kv) => [text(kv, 1), anyValue(message(kv, 2))]));
}

function event(bytes: Uint8Array): ReceivedEvent {
  const m = fields(bytes);
  return { name: text(m, 2), timeUnixNano: number(m, 1), attributes: attributes(messages(m, 3)) };
}

/**
 * Decodes an OTLP ExportTraceServiceRequest (opentelemetry/proto/collector/trace/v1) as the protobuf
 * exporter sends it, into the same shape the JSON receiver produces.
 */
export function decodeTraceRequest(body: Uint8Array): ReceivedSpan[] {
  return messages(fields(body), 1).flatMap((resourceSpans) => {
    const rs = fields(resourceSpans);
    const resource = attributes(messages(fields(message(rs, 1)), 1));
    return messages(rs, 2).flatMap((scopeSpans) =>
      messages(fields(scopeSpans), 2).map((spanBytes): ReceivedSpan => {
        const s = fields(spanBytes);
        const status = fields(message(s, 15));
        return {
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          parentSpanId: hex(s, 4),
          name: text(s, 5),
          kind: Number(number(s, 6)),
          startTimeUnixNano: number(s, 7),
          endTimeUnixNano: number(s, 8),
          attributes: attributes(messages(s, 9)),
          events: messages(s, 11).map(event),
          status: { code: Number(number(status, 3)), message: text(status, 2) },
          resource,
        };
      }),
    );
  });
}
