import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import { expandGlobs, globCrossings, isDirectoryLink, walkBelowRoot, type LinkCrossing } from "./index.js";

let root: string;
let outside: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-link-")));
  outside = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-outside-")));
  writeFiles(outside, { "dist/sentinel.txt": "keep\n", "src/a.ts": "a\n" });
  writeFiles(root, { "src/own.ts": "own\n", "real/dist/r.txt": "r\n" });
  symlinkSync(outside, join(root, "lnk"));
  symlinkSync("../real", join(root, "src/inside"));
  symlinkSync(join(outside, "src/a.ts"), join(root, "src/file-link.ts"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const through = (glob: string, link = "lnk", target = outside): LinkCrossing => ({ glob, link, target, kind: "through" });

describe("the symlink rule", () => {
  test("20.N1: a glob whose directory part passes through a link is not crawled, and is reported", () => {
    const crossings: LinkCrossing[] = [];
    const unmatched: string[] = [];
    const patterns = ["lnk/dist/**", "lnk/**", "lnk/dist/sentinel.txt", "lnk/*/a.ts", "./lnk/src/", "real/dist/**"];
    expect(expandGlobs(root, patterns, { directories: true, crossings, unmatched })).toEqual(["real/dist/r.txt"]);
    expect(crossings).toEqual([through("lnk/dist/**"), through("lnk/**"), through("lnk/dist/sentinel.txt"), through("lnk/*/a.ts"), through("./lnk/src/")]);
    expect(unmatched).toEqual([]);
    // Without a collector too: nothing through a link is ever returned, so nothing can be cleared or stored through it.
    expect(expandGlobs(root, ["lnk/dist/**"], { directories: true })).toEqual([]);
  });

  test("20.N1: globCrossings finds the same without crawling; a link named outright, or matched by a wildcard, is an entry", () => {
    expect(globCrossings(root, ["lnk/dist/**", "!lnk/x/**", "lnk", "src/**", "missing/below/**"])).toEqual([through("lnk/dist/**")]);
    expect(expandGlobs(root, ["lnk", "src/**"], { directories: true })).toEqual(["lnk", "src/file-link.ts", "src/inside", "src/own.ts"]);
  });

  test("20.N1: walkBelowRoot names the first link on the way, the last component only when it is crawled", () => {
    expect(walkBelowRoot(root, "lnk/dist", false)).toEqual({ link: "lnk" });
    expect(walkBelowRoot(root, "src/inside/dist", false)).toEqual({ link: "src/inside" });
    expect(walkBelowRoot(root, "lnk", true)).toEqual({ link: "lnk" });
    const named = walkBelowRoot(root, "lnk", false);
    expect([named.link, named.link === undefined && named.stat?.isSymbolicLink()]).toEqual([undefined, true]);
    expect(walkBelowRoot(root, "src/own.ts/below", true)).toEqual({ stat: undefined });
    expect(walkBelowRoot(root, "nothing/here", true)).toEqual({ stat: undefined });
  });

  test("20.N1: a link to a directory is told from a link to a file (an input keyed by what it points to)", () => {
    expect(["src/inside", "src/file-link.ts", "src/own.ts", "real/dist"].map((path) => isDirectoryLink(root, path))).toEqual([true, false, false, false]);
  });

  test("20.N1: a link above the root is not the rule's business", () => {
    const via = join(outside, "via");
    symlinkSync(root, via);
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "dist/x.txt"), "x\n");
    const crossings: LinkCrossing[] = [];
    expect(expandGlobs(via, ["dist/**"], { crossings })).toEqual(["dist/x.txt"]);
    expect(crossings).toEqual([]);
  });
});
