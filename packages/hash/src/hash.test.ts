import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { writeFiles } from "../../../test-support/files.js";
import picomatch from "picomatch";
import { digestBytes, digestFile, expandGlobs, FileHasher, globMatcher, MemoryStatCache, showBytes } from "./index.js";

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-hash-")));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const write = (files: Record<string, string>): void => writeFiles(root, files);

/**
 * A build start safely after the files' last change. (Date.now() is whole
 * milliseconds while ctime has finer precision, so "now" can be earlier than a
 * ctime set a moment ago.)
 */
const startedLater = (): number => Date.now() + 1000;

/** Sets a file's mtime well in the past, so the stat cache may trust it. */
function age(name: string): void {
  utimesSync(join(root, name), new Date(2000, 0, 1), new Date(2000, 0, 1));
}

describe("digests", () => {
  test("BLAKE3 of known bytes, and of a file larger than one read chunk", () => {
    expect(digestBytes("abc")).toBe("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
    const big = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
    writeFileSync(join(root, "big"), big);
    expect(digestFile(join(root, "big"))).toBe(digestBytes(big));
  });
});

describe("FileHasher (stat cache)", () => {
  test("an unchanged file is not read again; a touched one is re-read and keeps its digest", () => {
    write({ "a.txt": "hello" });
    age("a.txt");
    const cache = new MemoryStatCache();
    const first = new FileHasher(root, cache, startedLater());
    const digest = first.digest("a.txt");
    expect([digest, first.filesHashed]).toEqual([digestBytes("hello"), 1]);

    const second = new FileHasher(root, cache, startedLater());
    expect([second.digest("a.txt"), second.filesHashed]).toEqual([digest, 0]);

    utimesSync(join(root, "a.txt"), new Date(2001, 0, 1), new Date(2001, 0, 1));
    const third = new FileHasher(root, cache, startedLater());
    expect([third.digest("a.txt"), third.filesHashed]).toEqual([digest, 1]);
  });

  test("a changed file of the same size and mtime is caught by ctime", () => {
    write({ "a.txt": "aaaa" });
    age("a.txt");
    const cache = new MemoryStatCache();
    new FileHasher(root, cache, startedLater()).digest("a.txt");
    writeFileSync(join(root, "a.txt"), "bbbb");
    age("a.txt"); // Same size, same mtime as before: only ctime tells.
    expect(new FileHasher(root, cache, startedLater()).digest("a.txt")).toBe(digestBytes("bbbb"));
  });

  test("racily clean: a file changed at or after the build's start is never remembered", () => {
    write({ "fresh.txt": "new" });
    const cache = new MemoryStatCache();
    const hasher = new FileHasher(root, cache, 0); // The build "started" before the file was written.
    expect(hasher.digest("fresh.txt")).toBe(digestBytes("new"));
    expect(cache.entries.size).toBe(0);
  });

  test("a missing file or a directory has no digest", () => {
    mkdirSync(join(root, "dir"));
    const hasher = new FileHasher(root, new MemoryStatCache(), startedLater());
    expect([hasher.digest("nope"), hasher.digest("dir")]).toEqual([undefined, undefined]);
  });
});

describe("globMatcher", () => {
  test("plain paths and <dir>/** match exactly as picomatch does", () => {
    const paths = ["out", "out/a", "out/a/b.txt", "out/.hidden", "outx", "out/../x", "out/./a", "out//a", "./out/a", "a/out", "", ".git/x", ".rbuild/y", "x.txt", "x.txt/y"];
    const ignored = picomatch([".rbuild/**", ".git/**"], { dot: true });
    for (const pattern of ["out", "out/**", "x.txt", "out/a", "**"]) {
      const reference = pattern.endsWith("**") ? [pattern] : [pattern, `${pattern}/**`];
      const expected = picomatch(reference, { dot: true });
      const actual = globMatcher([pattern]);
      for (const path of paths) expect([pattern, path, actual(path)]).toEqual([pattern, path, expected(path) && !ignored(path)]);
    }
  });
});

describe("expandGlobs", () => {
  beforeEach(() => {
    write({
      "src/a.ts": "",
      "src/a.test.ts": "",
      "src/.hidden": "",
      "src/sub/b.ts": "",
      "src/ünï côde.ts": "",
      ".rbuild/index.sqlite": "",
      ".git/HEAD": "",
      "dist/x.js": "",
    });
    mkdirSync(join(root, "dist/empty"));
    symlinkSync("a.ts", join(root, "src/link.ts"));
    symlinkSync("../dist", join(root, "src/dirlink"));
  });

  test("matches files (dotfiles and links included, links not followed), sorted, with ! excludes", () => {
    expect(expandGlobs(root, ["src/**/*.ts", "!src/**/*.test.ts"])).toEqual(["src/a.ts", "src/link.ts", "src/sub/b.ts", "src/ünï côde.ts"]);
    expect(expandGlobs(root, ["src"])).toEqual([
      "src/.hidden",
      "src/a.test.ts",
      "src/a.ts",
      "src/dirlink",
      "src/link.ts",
      "src/sub/b.ts",
      "src/ünï côde.ts",
    ]);
  });

  test("directories when asked; the cache and .git never", () => {
    expect(expandGlobs(root, ["dist/**"], { directories: true })).toEqual(["dist/empty", "dist/x.js"]);
    expect(expandGlobs(root, ["**"]).filter((p) => p.startsWith(".rbuild") || p.startsWith(".git"))).toEqual([]);
  });

  test("20.1: names that are not UTF-8 are reported, shown byte for byte, never silently left out", () => {
    const bytes = (text: string): Buffer => Buffer.from(text, "latin1");
    writeFileSync(Buffer.concat([Buffer.from(`${root}/src/`), bytes("caf\xe9.ts")]), "latin-1 name");
    mkdirSync(Buffer.concat([Buffer.from(`${root}/src/`), bytes("d\xff")]));
    writeFileSync(Buffer.concat([Buffer.from(`${root}/src/`), bytes("d\xff/in.ts")]), "below a latin-1 name");
    writeFileSync(Buffer.concat([Buffer.from(`${root}/dist/`), bytes("caf\xe9.js")]), "not matched");
    const undecodable: string[] = [];
    expect(expandGlobs(root, ["src/**/*.ts", "!src/**/*.test.ts"], { undecodable })).toEqual(["src/a.ts", "src/link.ts", "src/sub/b.ts", "src/ünï côde.ts"]);
    expect(undecodable.sort()).toEqual(["src/caf\\xe9.ts", "src/d\\xff"]);
    const excluded: string[] = [];
    expandGlobs(root, ["src/**/*.ts", "!src/caf*", "!src/d*"], { undecodable: excluded });
    expect(excluded).toEqual([]);
    // A pattern whose only match is such a name matched something (the task is refused for it, not warned about),
    // and two patterns that reach one name list it once.
    const once: string[] = [];
    const unmatched: string[] = [];
    expect(expandGlobs(root, ["src/caf*", "src/*.ts", "!src/d*"], { undecodable: once, unmatched })).toEqual(["src/a.test.ts", "src/a.ts", "src/link.ts", "src/ünï côde.ts"]);
    expect([once, unmatched]).toEqual([["src/caf\\xe9.ts"], []]);
  });

  test("20.18: patterns that match nothing are reported, also when another pattern found the same files", () => {
    const unmatched: string[] = [];
    expandGlobs(root, ["src/**/*.ts", "src/a.ts", "nope/**", "src/*.md", "src/a.ts/x", "src/sub", "!src/sub/**"], { unmatched });
    expect(unmatched).toEqual(["nope/**", "src/*.md", "src/a.ts/x", "src/sub"]);
  });

  test("20.1: showBytes keeps valid UTF-8 and escapes the rest", () => {
    expect(showBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2f, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, 0xc3]))).toBe("caf\\xe9/é😀\\xc3");
  });

  test("a literal path, a missing base, and an excluded-only list", () => {
    expect(expandGlobs(root, ["src/a.ts", "nope/**", "missing.txt"])).toEqual(["src/a.ts"]);
    expect(expandGlobs(root, ["!src/**"])).toEqual([]);
  });
});
