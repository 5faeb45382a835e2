/**
 * Removing what a task or a layer left, whatever modes it gave its directories.
 * A directory of mode 000 cannot be listed and one of 0555 cannot lose entries,
 * even by its owner, until it is opened up again: as `chmod -R u+rwx` before
 * `rm -rf` does. Only directories are opened up, and only their owner's bits;
 * links are never followed.
 */
import { chmodSync, lstatSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EACCES" || code === "EPERM";
}

/**
 * Gives the directory `path` its owner's read, write and search bits if it
 * lacks one. True when its mode changed; false when it already had them or is
 * not a directory (or is gone).
 */
export function openUp(path: string): boolean {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined || !stat.isDirectory() || (stat.mode & 0o700) === 0o700) return false;
  try {
    chmodSync(path, (stat.mode & 0o7777) | 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EPERM") return false; // Someone else's: not ours to open.
    throw error;
  }
  return true;
}

function openUpBelow(path: string): void {
  if (!openUp(path) && lstatSync(path, { throwIfNoEntry: false })?.isDirectory() !== true) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) if (entry.isDirectory()) openUpBelow(join(path, entry.name));
}

/**
 * Runs `remove(path)` (an unlink, rmdir or rm -r); when a directory's mode
 * forbids it, opens up `path`'s directory and, for a tree, everything below
 * `path`, and runs it again. The directory that held `path` stays opened up.
 */
export function removeOpeningUp(path: string, remove: (path: string) => void): void {
  try {
    remove(path);
    return;
  } catch (error) {
    if (!isPermissionError(error)) throw error;
  }
  openUp(dirname(path));
  openUpBelow(path);
  remove(path);
}

/** `rm -rf path`, opening up directories that forbid it first (see removeOpeningUp). */
export function removeTree(path: string): void {
  removeOpeningUp(path, (p) => rmSync(p, { recursive: true, force: true }));
}
