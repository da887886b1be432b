import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Vitest's default is one worker per core but one, which on a 2-core machine is a single
    // file at a time. Most of the suite waits on emulated Graph latency and durable timers rather
    // than the CPU, so two files at a time nearly halves the wall time there.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    restoreMocks: true,
    coverage: {
      provider: "v8",
      include: ["orchestrators/**", "activities/**", "shared/**", "local/**"],
      reporter: ["text-summary", "json-summary"],
    },
  },
});
