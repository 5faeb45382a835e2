/**
 * yarn v1's yarn.lock as a LockGraph, read with @yarnpkg/lockfile (yarn's
 * own parser). Its entries are keyed by descriptor (`left-pad@^1.3.0`; one
 * entry may stand for several descriptors); workspace packages have none. A
 * package's entries are those of the descriptors its package.json declares
 * (dependencies, devDependencies, optionalDependencies) and, transitively, of
 * the descriptors each entry's dependencies name. A descriptor of a workspace
 * package that yarn links is missing from the file and stays so. Yarn berry's
 * YAML lockfile (`__metadata:`) is not read: the caller falls back to the whole file.
 */
import { createRequire } from "node:module";
import { isObject, stringEntries, type LockGraph, type LockStart } from "./lock-graph.js";

const load = createRequire(import.meta.url);

/** The part of @yarnpkg/lockfile used here. */
interface YarnLockfileModule {
  parse(text: string): { type: "success" | "merge" | "conflict"; object: Record<string, unknown> };
}

const ENTRY_FIELDS = ["dependencies", "optionalDependencies"] as const;

/** The lockfile's graph, or undefined for text that is not a yarn v1 lockfile yarn would read as it is. */
export function yarnLockGraph(text: string): LockGraph | undefined {
  if (!/^# yarn lockfile v1$/m.test(text.slice(0, 1000)) || /^__metadata:/m.test(text)) return undefined;
  let parsed: ReturnType<YarnLockfileModule["parse"]>;
  try {
    parsed = (load("@yarnpkg/lockfile") as YarnLockfileModule).parse(text);
  } catch {
    return undefined;
  }
  // Merge-conflict markers: yarn rewrites the file at the next install; until then the whole file is the key.
  if (parsed.type !== "success" || !isObject(parsed.object)) return undefined;
  const entries = parsed.object;
  // A start is a node of its own: its edges are the descriptors its package.json declares.
  const starts = new Map<string, Readonly<Record<string, string>>>();
  return {
    shared: "yarn-lockfile-v1",
    start(start: LockStart): string {
      const id = `start:${start.dir}`;
      starts.set(id, start.dependencies);
      return id;
    },
    children(id: string): string[] {
      const declared = starts.get(id);
      if (declared !== undefined) return Object.entries(declared).map(([name, range]) => `${name}@${range}`);
      const entry = entries[id];
      if (!isObject(entry)) return [];
      return ENTRY_FIELDS.flatMap((field) => stringEntries(entry, field).map(([name, range]) => `${name}@${range}`));
    },
    entry: (id: string): unknown => starts.get(id) ?? entries[id],
  };
}
