import { describe, expect, test } from "vitest";
import type { Workspace } from "./discover.js";
import { selectPackages } from "./index.js";

/** web -> ui -> core <- cli; docs alone; all under /ws. */
const ws: Workspace = {
  root: "/ws",
  packageManager: "npm",
  lockfile: undefined,
  packages: [
    { name: "@acme/core", version: "1.0.0", dir: "packages/core", scripts: {}, dependencies: [] },
    { name: "@acme/ui", version: "1.0.0", dir: "packages/ui", scripts: {}, dependencies: ["@acme/core"] },
    { name: "cli", version: "1.0.0", dir: "tools/cli", scripts: {}, dependencies: ["@acme/core"] },
    { name: "web", version: "1.0.0", dir: "apps/web", scripts: {}, dependencies: ["@acme/ui"] },
    { name: "docs", version: "1.0.0", dir: "apps/docs", scripts: {}, dependencies: [] },
  ],
};
const select = (filters: string[], cwd = "/ws") => [...selectPackages(ws, filters, cwd)].sort();

describe("selectPackages", () => {
  test("22.3: names, name globs, directories, dependencies and dependents, excludes", () => {
    expect(select(["web"])).toEqual(["web"]);
    expect(select(["@acme/*"])).toEqual(["@acme/core", "@acme/ui"]);
    expect(select(["./apps"])).toEqual(["docs", "web"]);
    expect(select(["{./packages/ui}"])).toEqual(["@acme/ui"]);
    expect(select(["."], "/ws/tools")).toEqual(["cli"]);
    expect(select(["web..."])).toEqual(["@acme/core", "@acme/ui", "web"]);
    expect(select(["web^..."])).toEqual(["@acme/core", "@acme/ui"]);
    expect(select(["...@acme/core"])).toEqual(["@acme/core", "@acme/ui", "cli", "web"]);
    expect(select(["...^@acme/ui"])).toEqual(["web"]);
    expect(select(["...@acme/ui..."])).toEqual(["@acme/core", "@acme/ui", "web"]);
    expect(select(["./apps", "cli"])).toEqual(["cli", "docs", "web"]);
    expect(select(["...@acme/core", "!web"])).toEqual(["@acme/core", "@acme/ui", "cli"]);
    expect(select(["!./apps"])).toEqual(["@acme/core", "@acme/ui", "cli"]);
    expect(select(["./*/c*"])).toEqual(["@acme/core", "cli"]);
    expect(select(["{./apps/*}..."])).toEqual(["@acme/core", "@acme/ui", "docs", "web"]);
    // A plain name is that package only, not a scope.
    expect(() => select(["@acme"])).toThrow('--filter "@acme" matches no package of the workspace; its packages are: @acme/core, @acme/ui, cli, web, docs');
  });

  test("22.3: a filter that selects nothing or leaves the workspace is an error naming it", () => {
    expect(() => select(["wbe"])).toThrow('--filter "wbe" matches no package of the workspace; its packages are: @acme/core, @acme/ui, cli, web, docs');
    expect(() => select(["../other"])).toThrow('--filter "../other" names a directory outside the workspace (/ws)');
    expect(() => select(["[HEAD~1]"])).toThrow('--filter "[HEAD~1]": selecting the packages changed since a git revision is not supported yet; name the packages, or a ./directory');
    expect(() => select(["...{./apps}[origin/main]"])).toThrow(/^--filter "\.\.\.\{\.\/apps\}\[origin\/main\]": selecting the packages changed since a git revision/);
    expect(() => select(["..."])).toThrow('--filter "..." names no package: give a name, a name glob or a ./directory');
  });
});
