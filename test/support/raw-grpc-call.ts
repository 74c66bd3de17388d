import http2 from "node:http2";

/** A gRPC call made by hand over HTTP/2, so that the request bytes can be anything. */
export function rawGrpcCall(
  url: string,
  path: string,
  payload: Buffer,
): Promise<{ status: string | undefined; message: string | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const frame = Buffer.alloc(5 + payload.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(payload.length, 1);
    payload.copy(frame, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
    });
    let headers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h2) => (headers = h2));
    stream.on("trailers", (trailers) => (headers = { ...headers, ...trailers }));
    stream.on("data", () => undefined);
    stream.on("end", () => {
      session.close();
      const status = headers["grpc-status"];
      const message = headers["grpc-message"];
      resolve({
        status: Array.isArray(status) ? status[0] : status,
        message: Array.isArray(message) ? message[0] : message,
      });
    });
    stream.end(frame);
  });
}
