import { parseArgs } from "node:util";
import { suiteNames, type SuiteName } from "./report/bench-report.js";

/** How one benchmark run is set up. */
export interface BenchOptions {
  quick: boolean;
  /** Measured seconds per load point. */
  durationS: number;
  /** Warm-up seconds before each load point (not measured). */
  warmupS: number;
  suites: ReadonlySet<SuiteName>;
  /** Each load point is measured this many times, direct and gateway alternating; the table shows medians. */
  repeat: number;
  /** Delay the emulator adds before each answer. */
  upstreamLatencyMs: number;
  concurrencies: number[];
  /** Requests per second of the fixed-rate rows. */
  rate: number;
  /** Open-stream counts of the scaling rows. */
  openStreams: number[];
  /** Delay between the chunks of each open stream (the slow upstream of the scaling rows). */
  slowChunkDelayMs: number;
  /** Prompt sizes of the prompt rows, in bytes. */
  promptBytes: number[];
  /** Use the Node driver even where wrk or h2load is installed. */
  nodeDriverOnly: boolean;
  /** Run the gateway child with `--cpu-prof`, profiles written to this directory. */
  profileDir: string | undefined;
  /** Where latest.json and latest.md go. */
  outDir: string;
  logLevel: string;
}

/** The usage text of `npm run bench -- --help`. */
/** Where a --quick run writes without --out: git-ignored, so a quick run never replaces measured results. */
export const quickOutDir = "bench/results/quick";

export const benchUsage = `usage: npm run bench -- [options]
  --quick              seconds, not minutes: short runs, fewer points (CI and the smoke test)
  --duration S         measured seconds per load point (default 5; quick 0.3)
  --warmup S           warm-up seconds per load point (default 1; quick 0.1)
  --only LIST          comma-separated parts: ${suiteNames.join(",")}
  --repeat N           measure each point N times, report medians and the spread (default 1)
  --latency MS         upstream (emulator) delay before each answer (default 0)
  --rate N             requests/s of the fixed-rate rows (default 200)
  --streams LIST       open-stream counts of the scaling rows (default 1,100,1000,5000; quick 1,100)
  --chunk-delay MS     the scaling rows' slow upstream: one chunk per stream every MS (default 5000; quick 250)
  --node-driver        use the Node load driver even where wrk / h2load are installed
  --profile DIR        run the gateway with --cpu-prof, writing profiles to DIR
  --out DIR            where latest.json and latest.md go (default bench/results; quick bench/results/quick,
                       not committed: a quick run never overwrites the measured results)
  --log-level LEVEL    the gateway's log level (default info: one line per request, to a discarded stdout)`;

function numbers(text: string, name: string): number[] {
  const values = text.split(",").map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isFinite(v) || v <= 0))
    throw new Error(`--${name}: not a list of positive numbers: ${text}`);
  return values;
}

function positive(text: string | undefined, name: string, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0))
    throw new Error(`--${name}: not a positive number: ${text}`);
  return value;
}

/** Parses the command line; throws an Error naming a bad option. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      duration: { type: "string" },
      warmup: { type: "string" },
      only: { type: "string" },
      repeat: { type: "string" },
      latency: { type: "string" },
      rate: { type: "string" },
      streams: { type: "string" },
      "chunk-delay": { type: "string" },
      "node-driver": { type: "boolean", default: false },
      profile: { type: "string" },
      out: { type: "string" },
      "log-level": { type: "string" },
    },
  });
  const quick = values.quick === true;
  const suites = new Set<SuiteName>();
  for (const name of (values.only ?? suiteNames.join(",")).split(",")) {
    const suite = suiteNames.find((s) => s === name.trim());
    if (suite === undefined) throw new Error(`--only: unknown part "${name}" (use ${suiteNames.join(", ")})`);
    suites.add(suite);
  }
  return {
    quick,
    durationS: positive(values.duration, "duration", quick ? 0.3 : 5),
    warmupS: positive(values.warmup, "warmup", quick ? 0.1 : 1, true),
    suites,
    repeat: Math.round(positive(values.repeat, "repeat", 1)),
    upstreamLatencyMs: positive(values.latency, "latency", 0, true),
    concurrencies: quick ? [1, 16] : [1, 16, 64],
    rate: positive(values.rate, "rate", 200),
    openStreams:
      values.streams === undefined ? (quick ? [1, 100] : [1, 100, 1000, 5000]) : numbers(values.streams, "streams"),
    slowChunkDelayMs: positive(values["chunk-delay"], "chunk-delay", quick ? 250 : 5_000),
    promptBytes: [1024, 100 * 1024, 1024 * 1024],
    nodeDriverOnly: values["node-driver"] === true,
    profileDir: values.profile,
    outDir: values.out ?? (quick ? quickOutDir : "bench/results"),
    logLevel: values["log-level"] ?? "info",
  };
}
