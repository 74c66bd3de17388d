import { Code, ConnectError } from "@connectrpc/connect";
import { endStreamFlag, endStreamToJson, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { describe, expect, it } from "vitest";
import { wireStatus } from "../../src/server/wire-status.js";

function envelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + data.byteLength);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.byteLength);
  out.set(data, 5);
  return out;
}

const refused = new ConnectError("too big", Code.InvalidArgument);
const header = (contentType: string): Headers => new Headers({ "content-type": contentType });

describe("wireStatus reads back the status a call was answered with", () => {
  it("gRPC: from the trailers, or the headers of a trailers-only answer; OK is undefined", () => {
    const trailer = setTrailerStatus(new Headers(), refused);
    expect(wireStatus({ status: 200, header: header("application/grpc"), trailer }, undefined)).toMatchObject({
      code: Code.InvalidArgument,
      rawMessage: "too big",
    });
    const trailersOnly = setTrailerStatus(header("application/grpc+proto"), refused);
    expect(wireStatus({ status: 200, header: trailersOnly }, undefined)?.code).toBe(Code.InvalidArgument);
    const ok = setTrailerStatus(new Headers(), undefined);
    expect(wireStatus({ status: 200, header: header("application/grpc"), trailer: ok }, undefined)).toBeUndefined();
  });

  it("gRPC-Web: from the trailer frame, the last chunk written", () => {
    const frame = envelope(trailerFlag, trailerSerialize(setTrailerStatus(new Headers(), refused)));
    expect(wireStatus({ status: 200, header: header("application/grpc-web+proto") }, frame)?.code).toBe(
      Code.InvalidArgument,
    );
    const message = envelope(0, new Uint8Array([1, 2, 3]));
    expect(wireStatus({ status: 200, header: header("application/grpc-web+proto") }, message)).toBeUndefined();
  });

  it("Connect streaming: from the end-stream message", () => {
    const json = (error: ConnectError | undefined): Uint8Array =>
      new TextEncoder().encode(JSON.stringify(endStreamToJson(new Headers(), error, undefined)));
    const failed = envelope(endStreamFlag, json(new ConnectError("gone", Code.Unavailable)));
    expect(wireStatus({ status: 200, header: header("application/connect+proto") }, failed)).toMatchObject({
      code: Code.Unavailable,
      rawMessage: "gone",
    });
    const ok = envelope(endStreamFlag, json(undefined));
    expect(wireStatus({ status: 200, header: header("application/connect+json") }, ok)).toBeUndefined();
  });

  it("Connect unary: OK on HTTP 200, else the error body (or the HTTP status when it has none)", () => {
    expect(wireStatus({ status: 200, header: header("application/json") }, new Uint8Array())).toBeUndefined();
    expect(
      wireStatus({ status: 400, header: header("application/json") }, errorToJsonBytes(refused, {})),
    ).toMatchObject({ code: Code.InvalidArgument, rawMessage: "too big" });
    expect(wireStatus({ status: 415 }, undefined)).toMatchObject({ code: Code.Unknown, rawMessage: "HTTP 415" });
    expect(
      wireStatus({ status: 500, header: header("application/json") }, new TextEncoder().encode("nope"))?.code,
    ).toBe(Code.Unknown);
  });
});
