import { z } from "zod";
import { Secret } from "./secret.js";

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();
const pem = z.instanceof(Secret, { message: "must be file:PATH (or ${ENV_VAR} holding PEM text)" });

/**
 * `server.tls`: TLS on the one port, for gRPC and Connect alike (ALPN h2 or http/1.1). With `clientCa`, every
 * client must present a certificate signed by it (mutual TLS); connections without one are refused.
 */
export const tlsSchema = z.strictObject({
  /** The server's certificate chain (PEM). */
  certificate: pem,
  /** The server's private key (PEM). */
  privateKey: pem,
  /** CA certificates (PEM) that client certificates must chain to; set, client certificates are required. */
  clientCa: pem.optional(),
});

/**
 * `server`: the listener and what one caller or network peer may hold of it. Every bound has a default that
 * serves ordinary traffic; they exist so that idle, slow or flooding peers cannot exhaust the process.
 */
export const serverSchema = z
  .strictObject({
    host: z.string().default("0.0.0.0"),
    port: z.number().int().min(0).max(65535).default(50051),
    /** Largest accepted request message, in bytes. */
    maxRequestBytes: positiveInt.default(4 * 1024 * 1024),
    /** Grace period for in-flight requests on SIGTERM, in milliseconds. */
    shutdownGraceMs: nonNegativeInt.default(10_000),
    /**
     * On SIGTERM, how long the health service reports NOT_SERVING while the port still accepts calls, so that
     * load balancers stop sending new ones before the listener closes (e.g. 5000 behind Kubernetes).
     */
    drainDelayMs: nonNegativeInt.default(0),
    /**
     * Bytes of request messages still arriving, over every connection and stream: a request whose next bytes
     * would pass it fails with RESOURCE_EXHAUSTED (retryable). At least maxRequestBytes.
     */
    maxPendingRequestBytes: positiveInt.default(32 * 1024 * 1024),
    /** Open TCP connections; connections past it are closed as they arrive. */
    maxConnections: positiveInt.default(10_000),
    /** Calls running at once over all connections; calls past it fail with RESOURCE_EXHAUSTED. */
    maxInFlightCalls: positiveInt.default(4_096),
    /** HTTP/2 streams open at once on one connection; streams past it are refused (REFUSED_STREAM). */
    maxConcurrentStreams: positiveInt.default(100),
    /** A new connection that has not shown its protocol (its first bytes) within this time is closed. */
    sniffTimeoutMs: positiveInt.default(10_000),
    /** HTTP/1.1: a request's headers must arrive within this time (slow senders get 408 and are closed). */
    headersTimeoutMs: positiveInt.default(10_000),
    /** A request, headers and message, must arrive whole within this time; answers may take longer. */
    requestTimeoutMs: positiveInt.default(60_000),
    /** A connection with no call and no traffic for this long is closed (HTTP/1.1 keep-alive, HTTP/2 sessions). */
    idleTimeoutMs: positiveInt.default(65_000),
    tls: tlsSchema.optional(),
  })
  .refine((s) => s.maxPendingRequestBytes >= s.maxRequestBytes, {
    message: "maxPendingRequestBytes must be at least maxRequestBytes",
    path: ["maxPendingRequestBytes"],
  })
  .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, {
    message: "headersTimeoutMs must not exceed requestTimeoutMs",
    path: ["headersTimeoutMs"],
  });
