import http from "node:http";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";

/** Where the scrape endpoint listens. */
export interface PrometheusEndpointOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  path: string;
}

/**
 * A Prometheus scrape endpoint: the OpenTelemetry Prometheus exporter (a metric reader to register with the
 * meter provider) served by the gateway's own HTTP listener, so a busy port fails startup and port 0 works.
 */
export class PrometheusEndpoint {
  private constructor(
    /** The metric reader to register with the MeterProvider. */
    readonly reader: PrometheusExporter,
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  /** Starts listening; rejects when the port cannot be bound. */
  static async start(options: PrometheusEndpointOptions): Promise<PrometheusEndpoint> {
    const reader = new PrometheusExporter({ preventServerStart: true, endpoint: options.path, withoutScopeInfo: true });
    const server = http.createServer((request, response) => {
      const path = new URL(request.url ?? "/", "http://localhost").pathname;
      if (request.method === "GET" && path === options.path) {
        reader.getMetricsRequestHandler(request, response);
      } else {
        response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === "string")
      throw new Error("the Prometheus endpoint is not listening on a TCP port");
    const { port } = address;
    const host = options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
    return new PrometheusEndpoint(
      reader,
      server,
      `http://${host.includes(":") ? `[${host}]` : host}:${port}${options.path}`,
    );
  }

  /** Stops listening. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
