/**
 * npm's package-lock.json (or npm-shrinkwrap.json), lockfileVersion 2 or 3,
 * as a LockGraph. Its `packages` table is keyed by install location: `""`
 * (the root), a workspace package's directory (`packages/a`), and
 * `node_modules/x` or `packages/a/node_modules/x` for what is installed there;
 * a workspace package linked into node_modules is an entry with `link: true`
 * and `resolved` naming its directory. A package's entries are its own and,
 * transitively, each dependency resolved the way Node finds it: in the
 * node_modules of the entry's own location, then of each directory above it.
 * The v1 format (only the nested `dependencies` tree) is not read: the caller
 * falls back to the whole file.
 */
import { posix } from "node:path";
import { isObject, sharedFields, type LockGraph, type LockStart } from "./lock-graph.js";

/** What an installed package's entry lists; a workspace package (or the root) installs its devDependencies too. */
const INSTALLED = ["dependencies", "optionalDependencies", "peerDependencies"] as const;
const OWN = [...INSTALLED, "devDependencies"] as const;

function parent(location: string): string {
  const cut = location.lastIndexOf("/");
  return cut < 0 ? "" : location.slice(0, cut);
}

/** The lockfile's graph, or undefined for text that is not a package-lock.json of version 2 or 3. */
export function npmLockGraph(text: string): LockGraph | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(doc) || (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) || !isObject(doc.packages)) return undefined;
  const packages = doc.packages;
  // The v1 tree that version 2 repeats for old npms holds the same entries again: not shared.
  const shared = sharedFields(doc, ["packages", "dependencies"]);

  /** Where `name` required from `location` is found: its own node_modules, then each one above it. */
  const resolve = (location: string, name: string): string | undefined => {
    for (let dir = location; ; dir = parent(dir)) {
      const candidate = dir === "" ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (isObject(packages[candidate])) return candidate;
      if (dir === "") return undefined;
    }
  };

  return {
    shared,
    start: (start: LockStart): string => start.dir,
    children(location: string): string[] {
      const entry = packages[location];
      if (!isObject(entry)) return [];
      if (entry.link === true) return typeof entry.resolved === "string" ? [posix.normalize(entry.resolved).replace(/^\.$/, "")] : [];
      const fields = location === "node_modules" || location.startsWith("node_modules/") || location.includes("/node_modules/") ? INSTALLED : OWN;
      const found: string[] = [];
      for (const field of fields) {
        const declared = entry[field];
        if (!isObject(declared)) continue;
        for (const name of Object.keys(declared)) {
          const target = resolve(location, name);
          // A dependency installed nowhere (an optional one for another platform, a peer left out) has no entry to add.
          if (target !== undefined) found.push(target);
        }
      }
      return found;
    },
    entry: (id: string): unknown => packages[id],
  };
}
