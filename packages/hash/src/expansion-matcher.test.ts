/**
 * expansionMatcher decides from a path alone what expandGlobs decides by
 * crawling: checked against expandGlobs itself on a real tree, file by file.
 */
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import { expandGlobs, expansionMatcher } from "./index.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-expansion-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const FILES = [
  "README.md",
  "pkg/package.json",
  "pkg/src/a.ts",
  "pkg/src/deep/b.ts",
  "pkg/src/deep/c.js",
  "pkg/dist/out.js",
  "pkg/src/dist/inner.ts",
  "pkg/node_modules/dep/index.js",
  "pkg/.env",
  "pkg/odd name\nwith newline.ts",
  "other/x.txt",
  ".rbuild/index.sqlite",
  ".git/HEAD",
  "cache/blob",
];

const PATTERN_SETS: readonly (readonly string[])[] = [
  ["pkg/**"],
  ["pkg/**", "!pkg/node_modules/**", "!pkg/dist/**"],
  ["pkg/src/**/*.ts"],
  ["pkg/src", "README.md"],
  ["**", "!**/dist"],
  ["**/*.ts", "!pkg/src/deep/**"],
  ["pkg/*"],
  ["pkg/package.json", "other"],
  ["**", "!pkg/**", "pkg/src/a.ts"],
  ["./pkg/src/", "!pkg/src/deep"],
  ["p?g/src/*.{ts,js}"],
];

test("24.4: expansionMatcher says of each path what expandGlobs lists, excludes, never-entered directories and the cache included", () => {
  writeFiles(root, Object.fromEntries(FILES.map((file) => [file, "x\n"])));
  const ignore = ["cache/**"];
  for (const patterns of PATTERN_SETS) {
    const listed = expandGlobs(root, patterns, { ignore });
    const matches = expansionMatcher(patterns, ignore);
    expect({ patterns, matched: FILES.filter(matches).sort() }).toEqual({ patterns, matched: listed.filter((path) => FILES.includes(path)).sort() });
  }
  // Decided from the path alone: a deleted file matches as it did when it was there.
  expect(expansionMatcher(["pkg/src/**", "!pkg/src/deep/**"])("pkg/src/gone.ts")).toBe(true);
  expect(expansionMatcher(["pkg/src/**", "!pkg/src/deep/**"])("pkg/src/deep/gone.ts")).toBe(false);
});
