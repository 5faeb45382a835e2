import { describe, expect, test } from "vitest";
import { importSpecifiers } from "./imports.js";
import { packageName } from "./packages.js";

describe("imports", () => {
  test("23.3: import, import type, export from, import() and require() specifiers, without type-checking", () => {
    const text = [
      'import { a } from "@ws/util";',
      'import type { T } from "@ws/types/sub";',
      'import "./side-effect.js";',
      'export { b } from "@ws/lib";',
      'export * from "@ws/all";',
      'const lazy = await import("@ws/lazy");',
      'const old = require("@ws/old");',
      'import fs = require("node:fs");',
      'const notAnImport = "import x from \'@ws/string\'";',
      "// import { c } from '@ws/comment';",
      'let broken: number = "type errors do not matter";',
      'import { again } from "@ws/util";',
    ].join("\n");
    expect(importSpecifiers(text)).toEqual(["@ws/util", "@ws/types/sub", "./side-effect.js", "@ws/lib", "@ws/all", "@ws/lazy", "@ws/old", "node:fs"]);
  });

  test("23.3: a specifier's package: scoped, unscoped, with subpaths; none for relative, absolute, node: and # imports", () => {
    expect(["@ws/util/x/y", "lodash/fp", "react", "./a", "../b", "/abs", "node:fs", "#internal", "@broken"].map(packageName)).toEqual([
      "@ws/util",
      "lodash",
      "react",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
