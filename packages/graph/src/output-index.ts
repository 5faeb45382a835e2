/**
 * Which tasks declare a path as an output: each task's output globs indexed
 * by their static base, so a path is tried only against the tasks whose
 * outputs could hold it (one lookup per ancestor directory), never against all.
 */
import { globMatcher, splitPatterns, staticBase } from "@rbuild/hash";
import type { TaskFacts } from "./input.js";

export class OutputIndex {
  readonly #byBase = new Map<string, { task: string; matches: (path: string) => boolean; globs: readonly string[] }[]>();

  constructor(tasks: readonly TaskFacts[]) {
    for (const task of tasks) {
      const { include } = splitPatterns(task.outputs);
      if (include.length === 0) continue;
      const entry = { task: task.name, matches: globMatcher(task.outputs), globs: include };
      for (const base of new Set(include.map(staticBase))) this.#byBase.set(base, [...(this.#byBase.get(base) ?? []), entry]);
    }
  }

  readonly #known = new Map<string, { task: string; glob: string }[]>();

  /**
   * The tasks whose outputs match `path`, each with its first output glob (a guess when several could).
   * Remembered: one file stands in the inputs of many tasks (a package's in each dependent's).
   */
  writersOf(path: string): { task: string; glob: string }[] {
    let known = this.#known.get(path);
    if (known === undefined) this.#known.set(path, (known = this.#find(path)));
    return known;
  }

  #find(path: string): { task: string; glob: string }[] {
    const found: { task: string; glob: string }[] = [];
    const seen = new Set<string>();
    for (let dir = path; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf("/")))) {
      for (const entry of this.#byBase.get(dir) ?? []) {
        if (seen.has(entry.task) || !entry.matches(path)) continue;
        seen.add(entry.task);
        found.push({ task: entry.task, glob: firstMatching(entry.globs, path) ?? entry.globs[0]! });
      }
      if (dir === "") break;
    }
    return found;
  }
}

/** The first of `globs` (includes) that matches `path` on its own. */
export function firstMatching(globs: readonly string[], path: string): string | undefined {
  return globs.find((glob) => !glob.startsWith("!") && globMatcher([glob])(path));
}
