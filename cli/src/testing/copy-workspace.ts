/**
 * The copy of a workspace a test build runs in: every file and directory,
 * modes kept, symbolic links as links, except rbuild's cache (`.rbuild`, so
 * the copy builds from a cold cache) and `.git` at any depth; each
 * `node_modules` is a link to the original, not a copy (large, and only read).
 * A package linked from a `node_modules` is then the original's, not the copy's.
 */
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readlinkSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const LEFT_OUT = new Set([".rbuild", ".git"]);

/** Copies the workspace at `from` into the existing, empty directory `to`. */
export function copyWorkspace(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (LEFT_OUT.has(entry.name)) continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.name === "node_modules") symlinkSync(source, target);
    else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
    else if (entry.isDirectory()) {
      mkdirSync(target);
      copyWorkspace(source, target);
      // After its contents: a directory the workspace keeps read-only is filled first.
      chmodSync(target, statSync(source).mode & 0o7777);
    } else if (entry.isFile()) copyFileSync(source, target);
    // Sockets, fifos and devices are no part of a workspace's sources.
  }
}
