import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: "forks",
    // Vitest's default is one worker per core minus one: a single worker on a two-core CI machine. Most test
    // files wait on sockets, timers and child processes rather than compute, so three forks keep two cores
    // busy (the suite took 188 s with one worker and 100 s with three on two cores; four were no faster).
    maxWorkers: 3,
  },
});
