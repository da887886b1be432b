import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
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
