import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string): string => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit tests run against the TypeScript sources; end-to-end tests spawn the built CLI.
    alias: {
      "@rbuild/core": src("core"),
      "@rbuild/planner": src("planner"),
      "@rbuild/workspaces": src("workspaces"),
      "@rbuild/graph": src("graph"),
      "@rbuild/executor": src("executor"),
      "@rbuild/runners": src("runners"),
      "@rbuild/ui": src("ui"),
      "@rbuild/hash": src("hash"),
      "@rbuild/store": src("store"),
      "@rbuild/remote": src("remote"),
      "@rbuild/poolgit": src("poolgit"),
      "@rbuild/concourse": src("concourse"),
      "rbuild-cache-server": fileURLToPath(new URL("./cache-server/src/index.ts", import.meta.url)),
    },
  },
  test: {
    // fixtures/*/: a fixture's own tests (deploy-pipeline's, through rbuild/testing: build first).
    include: ["packages/*/src/**/*.test.ts", "cli/src/**/*.test.ts", "cache-server/src/**/*.test.ts", "fixtures/*/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
