import type { RequestSpec } from "../setup/bench-payloads.js";
import { runH2load } from "../load/h2load-driver.js";
import type { LoadResult } from "../load/load-result.js";
import { runClosedLoop, runFixedRate, warmUp } from "../load/node-load.js";
import { grpcRequesters, http1Requesters, type RequesterFactory } from "../load/node-requesters.js";
import { runWrk } from "../load/wrk-driver.js";
import type { Served } from "../setup/bench-processes.js";
import type { BenchContext } from "./bench-context.js";
import { sampledRun, type SampledRun } from "./sampled-run.js";

/** Closed-loop connections, or an open-loop request rate. */
export type UnaryLoad = { kind: "connections"; connections: number } | { kind: "rate"; perSecond: number };
/** HTTP/1.1 (Connect JSON, or the emulator's OpenAI JSON), or gRPC over HTTP/2. */
export type Wire = "http1" | "grpc";

/** Connections the fixed-rate driver may open. */
const rateConnections = 64;

function factoryFor(wire: Wire, url: string, spec: RequestSpec): RequesterFactory {
  return wire === "http1" ? http1Requesters(url, spec) : grpcRequesters(url, spec);
}

/** A label of the load for names and ids: `c16`, `1000rps`. */
export function loadLabel(load: UnaryLoad): string {
  return load.kind === "connections" ? `c${load.connections}` : `${load.perSecond}rps`;
}

/**
 * One unary load point: a warm-up with the Node driver (which also checks that every call succeeds: HTTP 200,
 * gRPC status 0), then the measured run with wrk (HTTP/1.1) or h2load (gRPC) when installed, else the Node
 * driver; fixed-rate runs always use the Node driver (wrk and h2load have no open-loop request rate).
 */
export async function runUnaryLoad(
  context: BenchContext,
  target: Served,
  wire: Wire,
  spec: RequestSpec,
  load: UnaryLoad,
): Promise<SampledRun<LoadResult>> {
  const { options, tools, workDir } = context;
  const factory = factoryFor(wire, target.url, spec);
  const connections = load.kind === "connections" ? load.connections : 16;
  const warm = await warmUp(factory, connections, options.warmupS * 1000);
  if (warm.failed > 0)
    throw new Error(`warm-up of ${spec.path} at ${target.url}: ${warm.failed} failed calls, ${warm.ok} succeeded`);
  const run = (): Promise<LoadResult> => {
    if (load.kind === "rate") return runFixedRate(factory, load.perSecond, options.durationS * 1000, rateConnections);
    if (wire === "http1" && tools.wrk) return runWrk(target.url, spec, load.connections, options.durationS, workDir);
    if (wire === "grpc" && tools.h2load)
      return runH2load(target.url, spec, load.connections, options.durationS, workDir);
    return runClosedLoop(factory, load.connections, options.durationS * 1000);
  };
  return sampledRun(context.gateway.child, context.emulator.child, run);
}
