/**
 * pnpm's pnpm-lock.yaml, lockfileVersion 6 or 9, as a LockGraph. `importers`
 * holds each workspace package (by directory, `.` for the root) with the
 * version each dependency resolved to: `link:../b` for another workspace
 * package, else a version that with the name (`left-pad@1.3.0`, with a peer
 * suffix `foo@1.0.0(react@18.2.0)`; v6 writes `/left-pad@1.3.0`) is the key of
 * its entry. In v9 an entry is `packages[key without the peer suffix]` (how to
 * fetch it) and `snapshots[key]` (what it depends on); in v6 both are in
 * `packages[key]`. An aliased dependency's version is a whole key
 * (`string-width@4.2.3`, v6 `/string-width@4.2.3`). Older formats (v5's
 * `/left-pad/1.3.0` keys) are not read: the caller falls back to the whole file.
 */
import { createRequire } from "node:module";
import { posix } from "node:path";
import type YamlModule from "yaml";
import { isObject, sharedFields, stringEntries, type LockGraph, type LockStart } from "./lock-graph.js";

const load = createRequire(import.meta.url);

const IMPORTER_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;
const PACKAGE_FIELDS = ["dependencies", "optionalDependencies"] as const;

/** The importer path a `link:` from importer `from` points at (`.` for the root). */
function linked(from: string, target: string): string {
  return posix.normalize(posix.join(from === "." ? "" : from, target)).replace(/\/$/, "") || ".";
}

/** The lockfile's graph, or undefined for text that is not a pnpm-lock.yaml of version 6 or 9. */
export function pnpmLockGraph(text: string): LockGraph | undefined {
  const yaml = load("yaml") as typeof YamlModule;
  let doc: unknown;
  try {
    doc = yaml.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(doc) || !/^[69]\./.test(String(doc.lockfileVersion))) return undefined;
  const importers = isObject(doc.importers) ? doc.importers : {};
  const packages = isObject(doc.packages) ? doc.packages : {};
  const snapshots = isObject(doc.snapshots) ? doc.snapshots : {};
  const known = (key: string): boolean => isObject(snapshots[key]) || isObject(packages[key]);
  const base = (key: string): string => {
    // The peer suffix starts at the first "(" (a scope's "@" comes before it).
    const cut = key.indexOf("(");
    return cut < 0 ? key : key.slice(0, cut);
  };
  /** The key of `name` at `version`, or the id of a missing one. */
  const keyOf = (name: string, version: string): string => {
    const candidates = version.startsWith("/") ? [version] : [`${name}@${version}`, `/${name}@${version}`, version];
    return candidates.find(known) ?? `${name}@${version}`;
  };

  return {
    shared: sharedFields(doc, ["importers", "packages", "snapshots"]),
    start: (start: LockStart): string => `importer:${start.dir === "" ? "." : start.dir}`,
    children(id: string): string[] {
      const found: string[] = [];
      if (id.startsWith("importer:")) {
        const path = id.slice("importer:".length);
        const importer = importers[path];
        if (!isObject(importer)) return found;
        for (const field of IMPORTER_FIELDS) {
          const declared = importer[field];
          if (!isObject(declared)) continue;
          for (const [name, spec] of Object.entries(declared)) {
            // v6 and v9 write { specifier, version }; a bare version string is read the same.
            const version = isObject(spec) ? spec.version : spec;
            if (typeof version !== "string") continue;
            found.push(version.startsWith("link:") ? `importer:${linked(path, version.slice("link:".length))}` : `package:${keyOf(name, version)}`);
          }
        }
        return found;
      }
      const key = id.slice("package:".length);
      const entry = snapshots[key] ?? packages[key];
      if (!isObject(entry)) return found;
      for (const field of PACKAGE_FIELDS) {
        for (const [name, version] of stringEntries(entry, field)) if (!version.startsWith("link:")) found.push(`package:${keyOf(name, version)}`);
      }
      return found;
    },
    entry(id: string): unknown {
      if (id.startsWith("importer:")) return importers[id.slice("importer:".length)];
      const key = id.slice("package:".length);
      return [packages[key] ?? packages[base(key)], snapshots[key]];
    },
  };
}
