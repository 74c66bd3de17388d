// Mutation testing (StrykerJS 9 + the Vitest runner). See docs/testing.md, "Mutation testing".
//
//   npm run test:mutation                                   # all three folders, incremental
//   npm run test:mutation -- --mutate "src/usage/**/*.ts"   # one folder (keep the *.d.ts exclusion in mind)
//
// StrykerJS 10 needs Node 22; the project runs on Node 20, so it stays on 9.x.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  packageManager: "npm",
  testRunner: "vitest",
  vitest: { configFile: "vitest.config.ts" },
  // Each mutant runs only the tests that executed its code in the initial run (the rest cannot kill it).
  coverageAnalysis: "perTest",
  mutate: ["src/pipeline/**/*.ts", "src/usage/**/*.ts", "src/providers/**/*.ts", "!src/**/*.d.ts"],
  // Static mutants (code run only while a module loads: top-level constants, tables, regexes) cannot be tied
  // to a test, so each one reloads and runs every test file that imports its file, transitively: for
  // src/usage that is all the e2e server tests, about a minute per mutant here (231 of src/usage's 1,064
  // mutants were static or also static, estimated at 47% of the run). With ignoreStatic the purely static
  // ones (54 in src/usage) are reported as "Ignored" and left out of the score; the others run only the tests
  // that executed them inside a test. To include them, set ignoreStatic: false (hours on two cores).
  ignoreStatic: true,
  // Two cores: two test-runner processes. Each runs Vitest in one worker thread; the tests spend much of
  // their time waiting on sockets and timers (e2e tests start real servers on port 0), so two keep both
  // cores busy without starving each other.
  concurrency: 2,
  // A mutant's tests get their initial-run time x 1.5 + timeoutMS before the mutant counts as "Timeout".
  // Generous, as the machine is shared by both runners and the e2e tests' servers.
  timeoutMS: 10_000,
  timeoutFactor: 1.5,
  // The initial (dry) run is the whole suite in a single worker thread.
  dryRunTimeoutMinutes: 20,
  // `npm run test:mutation` passes --incremental: only mutants whose code or covering tests changed since the
  // results in this file are run again. Not committed (git-ignored): it holds the text of every mutated and
  // test file (1.7 MB for src/usage alone) and changes with every run; keep it locally, or cache it in CI.
  incrementalFile: "reports/stryker-incremental.json",
  // "survivors" (stryker/survivors-reporter.mjs) appends each survivor to reports/mutation/survivors.jsonl as it is found.
  plugins: ["@stryker-mutator/*", "./stryker/survivors-reporter.mjs"],
  reporters: ["clear-text", "progress", "html", "json", "survivors"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0, reportScoreTable: true },
  thresholds: { high: 80, low: 60, break: null },
  // Not needed inside the sandbox copy. dist/ is: the CLI tests run bin/llm-gateway.js, which loads it.
  ignorePatterns: ["bench/results", "reports", ".stryker-tmp", "*.db", "*.db-*", "coverage"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
