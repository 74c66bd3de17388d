import http from "node:http";

/**
 * A local OTLP/HTTP receiver for the tracing row: accepts every export (`POST /v1/traces`, `/v1/metrics`),
 * counts it and answers an empty success, as a collector would, so span export costs the gateway what it
 * costs in production without a collector in the benchmark.
 */
export class OtlpSink {
  exports = 0;
  bytes = 0;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<OtlpSink> {
    let sink: OtlpSink | undefined;
    const server = http.createServer((req, res) => {
      req.on("data", (chunk: Buffer) => {
        if (sink !== undefined) sink.bytes += chunk.length;
      });
      req.on("end", () => {
        if (sink !== undefined) sink.exports++;
        const json = (req.headers["content-type"] ?? "").includes("json");
        res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
        res.end(json ? "{}" : "");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the OTLP sink is not listening");
    sink = new OtlpSink(server, `http://127.0.0.1:${address.port}`);
    return sink;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
