/**
 * The lockfile entries each workspace package installs, as one digest per
 * package: what a scripts() task's key holds of the root lockfile instead of
 * the whole file, so that a dependency bump in one package reruns the tasks
 * that can see it and no others.
 *
 * A package's subset is the union of the entries (see lock-graph.ts) that the
 * root, the package and each workspace package it depends on (directly or
 * not: their installed dependencies reach it) install, transitively, plus the
 * lockfile's shared fields; its digest is made of the Merkle digests of what
 * each of those reaches (reach-digests.ts), so it changes exactly when one of
 * those entries does. The root is in every subset: what it installs
 * (typescript, a test runner) is on every package's node_modules path. Read:
 * package-lock.json / npm-shrinkwrap.json v2 and v3, pnpm-lock.yaml v6 and v9,
 * yarn v1's yarn.lock. Any other lockfile (yarn berry, bun, an older format, one
 * that does not parse) gives undefined: the caller keys on the whole file.
 *
 * Parsing a big lockfile takes far longer than loading the rest of the
 * Buildfile, so the digests are cached in the workspace's cache directory:
 *
 *   <cacheDir>/lockfile-entries.json
 *     {"format":1,"source":"<digest>","parts":{"<package name>":"<digest>"} | null}
 *
 * `source` is the digest of the lockfile's name and bytes and of what else the
 * subsets are computed from (each package's name, directory, workspace
 * dependencies and declared dependency specs); `parts` null records a lockfile
 * that cannot be read by entries. The file is written to a temporary name and
 * renamed; one that does not parse, is of another format or another source is
 * ignored and written again. A cache directory that cannot be written only
 * costs the parse on every load.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeCacheDirectory, writeFileAtomically } from "@rbuild/core";
import { digestBytes } from "@rbuild/hash";
import { dependencyClosure } from "./dependency-closure.js";
import type { Workspace, WorkspacePackage } from "./discover.js";
import { canonicalJson, isObject, type LockGraph, type LockStart } from "./lock-graph.js";
import { npmLockGraph } from "./npm-lock.js";
import { pnpmLockGraph } from "./pnpm-lock.js";
import { reachDigests } from "./reach-digests.js";
import { yarnLockGraph } from "./yarn-lock.js";

const FORMAT = 1;
export const CACHE_FILE = "lockfile-entries.json";

/** The reader of each lockfile read by entries. */
const READERS: Readonly<Record<string, (text: string) => LockGraph | undefined>> = {
  "package-lock.json": npmLockGraph,
  "npm-shrinkwrap.json": npmLockGraph,
  "pnpm-lock.yaml": pnpmLockGraph,
  "yarn.lock": yarnLockGraph,
};

const startOf = (pkg: WorkspacePackage): LockStart => ({ dir: pkg.dir, dependencies: pkg.dependencySpecs ?? {} });

/**
 * For each package (by name), the digest of its subset of the lockfile
 * `graph`: the lockfile's shared fields and what the root, the package and each
 * of its workspace dependencies reach (see reach-digests.ts).
 */
export function subsetDigests(graph: LockGraph, ws: Workspace): Map<string, string> {
  const byName = new Map(ws.packages.map((pkg) => [pkg.name, pkg]));
  const root = graph.start({ dir: "", dependencies: ws.rootDependencySpecs ?? {} });
  const starts = new Map(ws.packages.map((pkg) => [pkg.name, graph.start(startOf(pkg))]));
  const reach = reachDigests(graph, [root, ...starts.values()]);
  const shared = digestBytes(canonicalJson(graph.shared));
  const digests = new Map<string, string>();
  for (const pkg of ws.packages) {
    const reached = new Set([reach.get(root)!, reach.get(starts.get(pkg.name)!)!]);
    for (const dep of dependencyClosure(pkg, byName)) reached.add(reach.get(starts.get(dep.name)!)!);
    digests.set(pkg.name, digestBytes(["rbuild-lock-subset", FORMAT, shared, ...[...reached].sort()].join("\n")));
  }
  return digests;
}

interface CacheFile {
  readonly format: number;
  readonly source: string;
  readonly parts: Record<string, string> | null;
}

function readCache(path: string, source: string): CacheFile | undefined {
  let cached: unknown;
  try {
    cached = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
  if (!isObject(cached) || cached.format !== FORMAT || cached.source !== source) return undefined;
  const parts = cached.parts;
  if (parts === null) return cached as unknown as CacheFile;
  if (!isObject(parts) || !Object.values(parts).every((digest) => typeof digest === "string")) return undefined;
  return cached as unknown as CacheFile;
}

/**
 * The digest of each package's lockfile entries, by package name, or
 * undefined when the workspace has no lockfile rbuild reads by entries (the
 * caller then keys on the whole file). `cacheDir` (none outside a Buildfile's
 * evaluation) keeps the result for the next load.
 */
export function lockfileDigests(ws: Workspace, cacheDir: string | undefined): ReadonlyMap<string, string> | undefined {
  const reader = ws.lockfile === undefined ? undefined : READERS[ws.lockfile];
  if (ws.lockfile === undefined || reader === undefined) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(join(ws.root, ws.lockfile));
  } catch {
    return undefined;
  }
  const layout = ws.packages.map((pkg) => [pkg.name, pkg.dir, pkg.dependencies, pkg.dependencySpecs ?? {}]);
  const source = digestBytes(JSON.stringify([FORMAT, ws.lockfile, digestBytes(bytes), ws.rootDependencySpecs ?? {}, layout]));
  const path = cacheDir === undefined ? undefined : join(cacheDir, CACHE_FILE);
  const cached = path === undefined ? undefined : readCache(path, source);
  if (cached !== undefined) {
    if (cached.parts === null) return undefined;
    const parts = new Map(Object.entries(cached.parts));
    // Written for these very packages (they are part of `source`); anything else is a damaged file.
    if (ws.packages.every((pkg) => parts.has(pkg.name))) return parts;
  }
  const graph = reader(bytes.toString("utf8"));
  const digests = graph === undefined ? undefined : subsetDigests(graph, ws);
  if (cacheDir !== undefined && path !== undefined) {
    try {
      makeCacheDirectory(cacheDir);
      writeFileAtomically(path, `${JSON.stringify({ format: FORMAT, source, parts: digests === undefined ? null : Object.fromEntries(digests) })}\n`);
    } catch {
      // A cache directory this user cannot write: the next load parses again.
    }
  }
  return digests;
}
