import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchUsage, parseBenchOptions, type BenchOptions } from "./bench-options.js";
import { reportMarkdown } from "./report/report-markdown.js";
import { reportTable } from "./report/report-table.js";
import { runBenchmark } from "./run-benchmark.js";

/**
 * `npm run bench`: runs the benchmark, prints its table and target checks, and writes latest.json and
 * latest.md to the output directory. Progress goes to stderr.
 */
async function run(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${benchUsage}\n`);
    return 0;
  }
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${benchUsage}\n`);
    return 2;
  }
  const report = await runBenchmark(options, (message) => process.stderr.write(`bench: ${message}\n`));
  const markdown = reportMarkdown(report);
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.outDir, "latest.md"), markdown);
  process.stdout.write(`${reportTable(report)}\n\n`);
  for (const check of report.targets)
    process.stdout.write(
      `${check.met === undefined ? "  ?" : check.met ? " ok" : "MISS"}  ${check.target}: ${check.measured}\n`,
    );
  process.stdout.write(`\nwritten: ${join(options.outDir, "latest.json")}, ${join(options.outDir, "latest.md")}\n`);
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
