import { describe, expect, it } from "vitest";
import { Http1ResponseParser } from "../../bench/load/http1-response-parser.js";

interface Seen {
  statuses: number[];
  bodies: string[];
  current: string;
}

function parserFor(seen: Seen): Http1ResponseParser {
  return new Http1ResponseParser({
    head: (status) => seen.statuses.push(status),
    body: (data) => (seen.current += data.toString("latin1")),
    end: () => {
      seen.bodies.push(seen.current);
      seen.current = "";
    },
  });
}

/** Feeds `text` in pieces of `size` bytes. */
function feed(parser: Http1ResponseParser, text: string, size: number): void {
  const bytes = Buffer.from(text, "latin1");
  for (let at = 0; at < bytes.length; at += size) parser.push(bytes.subarray(at, at + size));
}

const lengthResponse = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}';
const chunkedResponse =
  "HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
const emptyResponse = "HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n";

describe("Http1ResponseParser", () => {
  it.each([1, 3, 7, 1000])("reads keep-alive responses back to back, fed %i bytes at a time", (size) => {
    const seen: Seen = { statuses: [], bodies: [], current: "" };
    feed(parserFor(seen), lengthResponse + chunkedResponse + emptyResponse + lengthResponse, size);
    expect(seen.statuses).toEqual([200, 503, 204, 200]);
    expect(seen.bodies).toEqual(['{"ok":true}', "hello world", "", '{"ok":true}']);
  });

  it("waits for the rest of a body before it ends the response", () => {
    const seen: Seen = { statuses: [], bodies: [], current: "" };
    feed(parserFor(seen), lengthResponse.slice(0, -3), 1000);
    expect(seen.statuses).toEqual([200]);
    expect(seen.bodies).toEqual([]);
  });
});
