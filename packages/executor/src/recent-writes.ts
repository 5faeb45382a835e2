/**
 * What a task wrote, found from modification times: used only to tell a user
 * whose declared outputs matched nothing where the task's files went instead
 * ("it wrote build/app.js, not out/"). A bounded walk of the task's directory,
 * never on the path of a build whose outputs are where they were declared.
 *
 * Times cannot say which process wrote a file. The caller leaves out what other
 * tasks declare as outputs and, when other commands ran during this one's,
 * words the list as files that changed meanwhile rather than as this task's.
 * Only files are listed: a directory (an empty one a task made on the way, or
 * one that gained an entry) is not something a task's `outputs` would miss.
 */
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Directories that are never where a task's outputs are meant to go. */
const SKIPPED = new Set([".git", ".rbuild", "node_modules"]);
/** How deep a directory older than the command is searched; one made while it ran is searched whole. */
const MAX_DEPTH = 4;
const MAX_ENTRIES = 10_000;
/** Timestamps of a file system may lag or lead the clock by a tick. */
const SLACK_MS = 20;

/** When a task's command ran, on the wall clock (`Date.now()`), which is the clock of file times. */
export interface CommandWindow {
  readonly since: number;
  readonly until: number;
}

export interface RecentWrites {
  /** The first files found (relative to the walk's root), in name order. */
  readonly files: readonly string[];
  /** How many more the walk found beyond those. */
  readonly more: number;
}

/**
 * The files below `dir` (shown relative to `root`, a directory) modified within
 * `window`, the first `limit` of them and a count of the rest, leaving out
 * every path (relative to `root`) for which `skip` holds, and what is below a
 * directory for which it holds.
 */
export function writtenDuring(root: string, dir: string, window: CommandWindow, skip: (path: string) => boolean, limit = 3): RecentWrites {
  const files: string[] = [];
  let more = 0;
  let seen = 0;
  const from = window.since - SLACK_MS;
  const to = window.until + SLACK_MS;
  const relativeTo = (path: string): string => (path === root ? "" : path.slice(root.length + 1));
  const walk = (path: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(path).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (++seen > MAX_ENTRIES) return;
      if (SKIPPED.has(name)) continue;
      const full = join(path, name);
      const relative = relativeTo(full);
      if (skip(relative)) continue;
      const stat = lstatSync(full, { throwIfNoEntry: false }); // A link is listed, never followed.
      if (stat === undefined) continue;
      if (stat.isDirectory()) {
        if (depth < MAX_DEPTH || stat.birthtimeMs >= from) walk(full, depth + 1);
      } else if (stat.mtimeMs >= from && stat.mtimeMs <= to) {
        if (files.length < limit) files.push(relative);
        else more++;
      }
    }
  };
  walk(dir, 0);
  return { files, more };
}

interface Tracked {
  readonly since: number;
  /** When the command ended; undefined while it runs. */
  until: number | undefined;
  readonly beside: Set<string>;
}

/**
 * The commands of one build whose outputs are not captured yet: when each ran,
 * and which other commands ran at some time during it. A command that starts
 * after another ended but before that one's outputs are captured counts as
 * beside it (its first writes may fall within the other's slack).
 */
export class CommandRuns {
  readonly #tracked = new Map<string, Tracked>();

  started(task: string, now = Date.now()): void {
    const beside = new Set<string>();
    for (const [other, tracked] of this.#tracked) {
      tracked.beside.add(task);
      if (tracked.until === undefined) beside.add(other);
    }
    this.#tracked.set(task, { since: now, until: undefined, beside });
  }

  ended(task: string, now = Date.now()): void {
    const tracked = this.#tracked.get(task);
    if (tracked !== undefined && tracked.until === undefined) tracked.until = now;
  }

  /** The task's run, forgotten: called once its outputs are captured, or it failed. */
  take(task: string, now = Date.now()): { since: number; until: number; beside: string[] } | undefined {
    const tracked = this.#tracked.get(task);
    this.#tracked.delete(task);
    return tracked === undefined ? undefined : { since: tracked.since, until: tracked.until ?? now, beside: [...tracked.beside] };
  }
}
