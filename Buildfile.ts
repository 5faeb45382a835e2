/**
 * rbuild builds and tests itself: `npx rbuild test` runs the same suite as `npm test`.
 */
import { task } from "rbuild";

const sources = ["packages/*/src/**", "cli/src/**", "cli/bin/**", "cache-server/src/**", "test-support/**"];
const configs = ["package.json", "package-lock.json", "tsconfig*.json", "*/tsconfig.json", "packages/*/tsconfig.json", "packages/*/package.json", "*/package.json"];

export const build = task({
  name: "build",
  inputs: [...sources, ...configs, "!**/*.test.ts"],
  outputs: ["packages/*/dist/**", "cli/dist/**", "cache-server/dist/**"],
  run: "tsc -b",
});

export const typecheck = task({
  name: "typecheck",
  deps: [build],
  inputs: [...sources, ...configs, "vitest.config.ts", "Buildfile.ts"],
  run: "tsc -p tsconfig.check.json",
});

export const test = task({
  name: "test",
  deps: [build, typecheck],
  inputs: [...sources, ...configs, "vitest.config.ts", "fixtures/**"],
  env: ["CI"],
  run: "vitest run",
});
