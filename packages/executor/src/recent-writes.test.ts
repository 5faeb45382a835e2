import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { CommandRuns, writtenDuring } from "./recent-writes.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "rbuild-writes-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Writes `name` under root with the given modification time (ms). */
function file(name: string, mtimeMs: number): void {
  mkdirSync(join(root, name, ".."), { recursive: true });
  writeFileSync(join(root, name), "");
  utimesSync(join(root, name), mtimeMs / 1000, mtimeMs / 1000);
}

test("20.18: what changed during a command is its files in the window: no directory, nothing skipped, a count of the rest", () => {
  const window = { since: 1_000_000_000, until: 1_000_005_000 };
  file("pkg/build/a.js", window.since + 10);
  file("pkg/build/b.js", window.until);
  file("pkg/build/c.js", window.until + 1);
  file("pkg/build/d.js", window.since + 20);
  file("pkg/before.txt", window.since - 60_000);
  file("pkg/after.txt", window.until + 60_000);
  file("pkg/dist/theirs.js", window.since + 10);
  file("pkg/node_modules/x.js", window.since + 10);
  file("other/outside.txt", window.since + 10);
  mkdirSync(join(root, "pkg/empty"));
  const skip = (path: string): boolean => path === "pkg/dist";
  expect(writtenDuring(root, join(root, "pkg"), window, skip)).toEqual({ files: ["pkg/build/a.js", "pkg/build/b.js", "pkg/build/c.js"], more: 1 });
  expect(writtenDuring(root, join(root, "pkg"), window, skip, 10)).toEqual({ files: ["pkg/build/a.js", "pkg/build/b.js", "pkg/build/c.js", "pkg/build/d.js"], more: 0 });
});

test("20.18: a command runs beside those running when it starts, and those that start before its outputs are captured", () => {
  const runs = new CommandRuns();
  runs.started("a", 1);
  runs.started("b", 2);
  runs.ended("b", 3);
  runs.ended("a", 4);
  runs.started("c", 5); // a's outputs are not captured yet: c may write within a's window.
  expect(runs.take("b")).toEqual({ since: 2, until: 3, beside: ["a", "c"] });
  expect(runs.take("a")).toEqual({ since: 1, until: 4, beside: ["b", "c"] });
  // Neither was running when c started.
  expect(runs.take("c", 6)).toEqual({ since: 5, until: 6, beside: [] });
  expect(runs.take("c")).toBeUndefined();
});
