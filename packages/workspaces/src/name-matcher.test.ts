import { describe, expect, test } from "vitest";
import type { Workspace } from "./discover.js";
import { selectPackages } from "./index.js";
import { nameMatcher } from "./name-matcher.js";

const NAMES = ["@acme/core", "@acme/ui", "@other/core", "core", "web", "web-utils"];
const matching = (...patterns: string[]): string[] => NAMES.filter(nameMatcher(patterns));

describe("nameMatcher", () => {
  test("20.N8c: `*` matches across a scope's `/`, as in pnpm: `*` is every package, `*core` the scoped ones too", () => {
    expect(matching("*")).toEqual(NAMES);
    expect(matching("*core")).toEqual(["@acme/core", "@other/core", "core"]);
    expect(matching("*/core")).toEqual(["@acme/core", "@other/core"]);
    expect(matching("@acme/*")).toEqual(["@acme/core", "@acme/ui"]);
    expect(matching("@*/ui")).toEqual(["@acme/ui"]);
    expect(matching("web*")).toEqual(["web", "web-utils"]);
    expect(matching("*", "!@acme/*")).toEqual(["@other/core", "core", "web", "web-utils"]);
    // Names stay exact, and the rest of the glob syntax keeps working.
    expect(matching("@acme")).toEqual([]);
    expect(matching("core")).toEqual(["core"]);
    expect(matching("@acme/{core,ui}")).toEqual(["@acme/core", "@acme/ui"]);
    expect(matching("we?")).toEqual(["web"]);
  });

  test('20.N8c: --filter "*" selects scoped packages', () => {
    const ws: Workspace = {
      root: "/ws",
      packageManager: "pnpm",
      lockfile: undefined,
      packages: [
        { name: "@scope/a", version: "1.0.0", dir: "packages/a", scripts: {}, dependencies: [] },
        { name: "b", version: "1.0.0", dir: "packages/b", scripts: {}, dependencies: ["@scope/a"] },
      ],
    };
    expect([...selectPackages(ws, ["*"], "/ws")].sort()).toEqual(["@scope/a", "b"]);
    expect([...selectPackages(ws, ["*a"], "/ws")].sort()).toEqual(["@scope/a"]);
  });
});
