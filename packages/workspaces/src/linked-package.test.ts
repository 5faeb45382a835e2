import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectTasks } from "@rbuild/core";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { discoverWorkspace, scripts } from "./index.js";

let root: string;
let outside: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-ws-")));
  outside = realpathSync(mkdtempSync(join(tmpdir(), "rbuild-outside-")));
  for (const name of ["a", "b"]) {
    mkdirSync(join(outside, name));
    writeFileSync(join(outside, name, "package.json"), JSON.stringify({ name, version: "1.0.0", scripts: { build: "true" } }));
  }
  mkdirSync(join(root, "packages/real"), { recursive: true });
  writeFileSync(join(root, "packages/real/package.json"), JSON.stringify({ name: "real", version: "1.0.0", scripts: { build: "true" } }));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const links = (workspaces: string[]) => {
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "root", private: true, workspaces }));
  return discoverWorkspace(root).packages.map((pkg) => [pkg.dir, pkg.link]);
};

describe("20.N1: packages reached through a symbolic link", () => {
  test("20.N1: discovery names the link on the way to a package: the package's own, one above it, or one named outright", () => {
    symlinkSync(join(outside, "a"), join(root, "packages/a"));
    expect(links(["packages/*"])).toEqual([
      ["packages/a", "packages/a"],
      ["packages/real", undefined],
    ]);
    rmSync(join(root, "packages/a"));
    symlinkSync(outside, join(root, "vendor"));
    expect(links(["packages/*", "vendor/*"])).toEqual([
      ["packages/real", undefined],
      ["vendor/a", "vendor"],
      ["vendor/b", "vendor"],
    ]);
    expect(links(["packages/real", "vendor/b"])).toEqual([
      ["packages/real", undefined],
      ["vendor/b", "vendor"],
    ]);
  });

  test("20.N1: scripts() refuses a linked package it would declare a task for, and not one it leaves out", () => {
    symlinkSync(join(outside, "a"), join(root, "packages/a"));
    writeFileSync(join(root, "package.json"), JSON.stringify({ name: "root", private: true, workspaces: ["packages/*"] }));
    const workspace = discoverWorkspace(root);
    expect(() => scripts("build", { workspace })).toThrow(
      `workspace package "a" (task "a#build") is at packages/a, a symbolic link (packages/a -> ${join(outside, "a")}); rbuild does not read, clear or store files through a symbolic link, ` +
        `which could reach files outside the workspace. Make packages/a a real directory (move the package into the workspace), or leave "a" out with \`packages: ["!a"]\`.`,
    );
    const stop = collectTasks();
    try {
      expect(scripts("build", { workspace, packages: ["!a"] }).map((task) => task.name)).toEqual(["real#build"]);
    } finally {
      stop();
    }
  });
});
