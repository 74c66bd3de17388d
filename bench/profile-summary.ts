import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** The parts of a V8 `.cpuprofile` (as `node --cpu-prof` writes it) that the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code comes from: an npm package, a project folder (`src/pipeline`), Node itself, or V8. */
function origin(url: string): string {
  const pkg = /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(url);
  if (pkg?.[1] !== undefined && pkg[1] !== ".cache") return pkg[1];
  const own = /\/(src|bench|gen)\/([^/]+)\//.exec(url);
  if (own?.[1] !== undefined) return `${own[1]}/${own[2] ?? ""}`;
  if (url.startsWith("node:")) return "node";
  return url === "" ? "(v8: gc, idle, native)" : url;
}

function short(url: string): string {
  return url.includes("node_modules/") && !url.includes("node_modules/.cache/")
    ? url.replace(/^.*node_modules\//, "")
    : url.replace(/^.*\/(src|bench|gen)\//, "$1/");
}

/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [--skip S] [--top N]`: where a CPU profile's time went,
 * without a browser: the functions with the most self time, and the time per package or project folder. The
 * first `--skip` seconds (start-up, module loading) are left out. Profiles come from `npm run bench --
 * --profile DIR`, which runs the gateway under `--cpu-prof`.
 */
function profileSummary(argv: readonly string[]): string {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { skip: { type: "string" }, top: { type: "string" } },
  });
  const [file] = positionals;
  if (file === undefined) return "usage: profile-summary FILE.cpuprofile [--skip SECONDS] [--top N]";
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const skipUs = Number(values.skip ?? 2) * 1e6;
  const top = Number(values.top ?? 30);
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfTime = new Map<number, number>();
  let elapsed = 0;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    elapsed += delta;
    if (elapsed < skipUs) return;
    selfTime.set(id, (selfTime.get(id) ?? 0) + delta);
    total += delta;
  });
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, time] of selfTime) {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) continue;
    const name = `${frame.functionName || "(anonymous)"}  ${short(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    byOrigin.set(origin(frame.url), (byOrigin.get(origin(frame.url)) ?? 0) + time);
  }
  const rows = (map: Map<string, number>): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`);
  return [
    `${(total / 1e6).toFixed(1)} s profiled after the first ${skipUs / 1e6} s`,
    "",
    "self time by function:",
    ...rows(byFunction),
    "",
    "self time by package or folder:",
    ...rows(byOrigin),
  ].join("\n");
}

process.stdout.write(`${profileSummary(process.argv.slice(2))}\n`);
