import type { BenchChild } from "../child/bench-child.js";

/** A run with the CPU time and peak RSS of both processes under test. */
export interface SampledRun<T> {
  result: T;
  gatewayCpuMs: number;
  emulatorCpuMs: number;
  gatewayPeakRssMb: number;
  emulatorPeakRssMb: number;
}

const mb = (bytes: number): number => bytes / (1024 * 1024);

/**
 * Runs `run` between two readings of the gateway's and the emulator's own CPU time (process.cpuUsage in each
 * child), sampling both RSS every 250 ms meanwhile. The readings are taken outside the measured load, so the
 * IPC round trip does not delay it.
 */
export async function sampledRun<T>(
  gateway: BenchChild,
  emulator: BenchChild,
  run: () => Promise<T>,
): Promise<SampledRun<T>> {
  const [gatewayBefore, emulatorBefore] = await Promise.all([gateway.stats(), emulator.stats()]);
  let gatewayPeak = gatewayBefore.rssBytes;
  let emulatorPeak = emulatorBefore.rssBytes;
  let sampling = Promise.resolve();
  const poller = setInterval(() => {
    sampling = Promise.all([gateway.stats(), emulator.stats()]).then(
      ([g, e]) => {
        gatewayPeak = Math.max(gatewayPeak, g.rssBytes);
        emulatorPeak = Math.max(emulatorPeak, e.rssBytes);
      },
      () => undefined,
    );
  }, 250);
  let result: T;
  try {
    result = await run();
  } finally {
    clearInterval(poller);
    await sampling;
  }
  const [gatewayAfter, emulatorAfter] = await Promise.all([gateway.stats(), emulator.stats()]);
  return {
    result,
    gatewayCpuMs: gatewayAfter.cpuMs - gatewayBefore.cpuMs,
    emulatorCpuMs: emulatorAfter.cpuMs - emulatorBefore.cpuMs,
    gatewayPeakRssMb: mb(Math.max(gatewayPeak, gatewayAfter.rssBytes)),
    emulatorPeakRssMb: mb(Math.max(emulatorPeak, emulatorAfter.rssBytes)),
  };
}
