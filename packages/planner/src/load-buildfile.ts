/**
 * Loading a Buildfile: transpile `Buildfile.ts` and the local modules it
 * imports into one ES module, import it, and collect the tasks it declares.
 *
 * Compiled output is cached under `<cacheDir>/buildfile/<entry-hash>/`:
 *
 *   manifest.json   {"format":2, "entry", "api", "inputs":[[path, blake3-hex]], "externals":[path],
 *                    "globs":[[dir, blake3-hex]], "output"}
 *   <hash>.mjs      the bundled module, with an inline source map
 *
 * The manifest is valid while the entry and the rbuild API module are the same,
 * every bundled source still hashes to its recorded digest, every external
 * module (npm packages the Buildfile imports) still exists, every directory a
 * computed `import("./lib/" + name)` searched holds the same files, and the compiled
 * module still hashes to its name (one edited or truncated in place is compiled
 * again, with a warning, never run or blamed on the Buildfile). Then the transpiler
 * is not even loaded, which keeps it off the no-op path. Both files are written
 * to a temporary name and renamed, so a crash never leaves a partial module that
 * a manifest points at. Anything else in the way (a file where the directory
 * should be, a directory where a file should be) is removed, with a warning.
 *
 * `import ... from "rbuild"` resolves to the running rbuild (`apiModule`), so a
 * Buildfile works in a directory without node_modules, and its tasks are the
 * same objects the CLI understands. Other bare imports are resolved from the
 * importing file at bundle time and kept external as absolute file URLs, so
 * the compiled module can live anywhere.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { digestBytes, type Digest } from "@rbuild/hash";
import { collectStages, collectTasks, err, makeCacheDirectory, makeDirectories, writeFileAtomically, locationFromStack, ok, type Result, type SetupFailure, type Stage, type StrayErrors, type Task } from "@rbuild/core";
import { transpile } from "./transpile.js";

/** 2: import.meta.resolve and computed imports point at the sources (see transpile.ts); `globs`. */
const MANIFEST_FORMAT = 2;
const STALE_OUTPUT_MS = 24 * 60 * 60 * 1000;

export interface LoadOptions {
  /** Absolute path of the module that `import ... from "rbuild"` resolves to. */
  readonly apiModule: string;
  /** The workspace's cache directory (`.rbuild` unless overridden). */
  readonly cacheDir: string;
  /** Where errors the Buildfile throws outside the load's own flow go (see StrayErrors). */
  readonly strays?: StrayErrors;
  /** Told, once, when a damaged compiled module had to be compiled again. */
  readonly onInfo?: (code: string, message: string) => void;
}

export interface LoadedBuildfile {
  readonly file: string;
  /** The Buildfile's directory: globs, `cwd` and outputs are relative to it. */
  readonly root: string;
  /** Every task the Buildfile declared, in declaration order. */
  readonly tasks: readonly Task[];
  /** The stages it declares (see @rbuild/core stage.ts). */
  readonly stages: readonly Stage[];
  /** Whether the compiled module came from the cache or was transpiled now. */
  readonly compiled: "cached" | "transpiled";
  /**
   * The digest of the Buildfile's sources: their paths relative to its
   * directory and their contents, and for each npm package it imports, the
   * package's name and version and the imported file's contents (see
   * externalsIdentity). The same in every checkout, so it can enter the keys
   * of function tasks (a function may use anything its module holds, npm
   * packages included: upgrading one must not leave their results cached).
   */
  readonly sourceDigest: Digest;
  /**
   * The npm packages' files the Buildfile imports (absolute paths). A process
   * that loads the Buildfile again keeps the modules it imported the first
   * time, so only a fresh process sees a changed package.
   */
  readonly externals: readonly string[];
  /**
   * What the Buildfile's code comes from (absolute paths): `files`, the local
   * modules bundled into it and the npm package files it imports; `searched`,
   * the directories its computed imports (`import("./lib/" + name)`) look in.
   * A change to any of them may change every task (what `--since` asks).
   */
  readonly sources: { readonly files: readonly string[]; readonly searched: readonly string[] };
}

interface Manifest {
  format: number;
  entry: string;
  api: string;
  inputs: [string, string][];
  externals: string[];
  /** The directories computed imports searched, with the digest of the files they held (see listingDigest). */
  globs: [string, string][];
  output: string;
}

function digestFile(path: string): string | undefined {
  try {
    return digestBytes(readFileSync(path));
  } catch {
    return undefined;
  }
}

/**
 * What a computed import can match in `dir`: the digest of the paths of the
 * files below it, leaving out node_modules and dot-directories (another
 * package's files, .git and .rbuild are not the Buildfile's modules).
 */
function listingDigest(dir: string): string {
  const files: string[] = [];
  const walk = (at: string, prefix: string): void => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(at, { withFileTypes: true });
    } catch {
      return; // Gone, or not a directory: its (empty) listing says so.
    }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(join(at, entry.name), `${prefix}${entry.name}/`);
      } else files.push(`${prefix}${entry.name}`);
    }
  };
  walk(dir, "");
  return digestBytes(files.sort().join("\0"));
}

/**
 * Removes what is at `path` unless it is of the `kind` the cache needs there
 * (a file where its directory should be, say); says whether it removed anything.
 */
function clearTheWay(path: string, kind: "directory" | "file"): boolean {
  const stats = statSync(path, { throwIfNoEntry: false });
  if (stats === undefined || (kind === "directory" ? stats.isDirectory() : stats.isFile())) return false;
  rmSync(path, { recursive: true, force: true });
  return true;
}

/** The manifest if it and the module it names can be used; "damaged" if the module is not what was compiled. */
function readValidManifest(path: string, entry: string, api: string): Manifest | "damaged" | undefined {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
  if (manifest.format !== MANIFEST_FORMAT || manifest.entry !== entry || manifest.api !== api) return undefined;
  if (!Array.isArray(manifest.inputs) || !Array.isArray(manifest.externals) || !Array.isArray(manifest.globs)) return undefined;
  for (const [file, digest] of manifest.inputs) if (digestFile(file) !== digest) return undefined;
  for (const file of manifest.externals) if (!existsSync(file)) return undefined;
  for (const [dir, digest] of manifest.globs) if (listingDigest(dir) !== digest) return undefined;
  // The module is named for its digest: one edited or truncated since is compiled again, not run.
  const module = digestFile(join(dirname(path), manifest.output));
  if (module === undefined) return undefined;
  if (`${module.slice(0, 32)}.mjs` !== manifest.output) return "damaged";
  return manifest;
}

function removeStaleOutputs(dir: string, keep: string): void {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    if (name === keep || name === "manifest.json") continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > STALE_OUTPUT_MS) unlinkSync(path);
    } catch {
      // Another rbuild removed it first.
    }
  }
}

/** The package.json nearest above `file`, with the directory it is in. */
function owningPackage(file: string): { dir: string; name: string; version: string } | undefined {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, "package.json"), "utf8");
    } catch {
      // None here: look further up.
    }
    if (text !== undefined) {
      let manifest: { name?: unknown; version?: unknown };
      try {
        manifest = JSON.parse(text) as typeof manifest;
      } catch {
        return undefined;
      }
      // A package.json without a name (e.g. one that only sets "type") does not end a package.
      if (typeof manifest.name === "string") return { dir, name: manifest.name, version: typeof manifest.version === "string" ? manifest.version : "" };
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * What identifies the npm packages the Buildfile imports, the same on every
 * machine: per imported file, its package's name and version, its path in the
 * package, and its contents (a linked workspace package or a patched file
 * changes without a new version). Files it imports in turn are covered by the
 * version only.
 */
function externalsIdentity(externals: readonly string[]): string[] {
  return externals.map((file) => {
    const owner = owningPackage(file);
    const where = owner === undefined ? file.slice(file.lastIndexOf("/") + 1) : `${owner.name}@${owner.version}/${relative(owner.dir, file)}`;
    return `${where}\0${digestFile(file) ?? "missing"}`;
  });
}

function sourceDigestOf(entry: string, inputs: readonly [string, string][], externals: readonly string[]): Digest {
  const root = dirname(entry);
  const sources = inputs.map(([path, digest]) => [relative(root, path), digest]).sort();
  // Without packages, the digest of a Buildfile is what it always was: keys stay as they were.
  return digestBytes(JSON.stringify(externals.length === 0 ? sources : [sources, externalsIdentity(externals).sort()]));
}

type Compiled = { module: string; compiled: LoadedBuildfile["compiled"]; sourceDigest: Digest; externals: readonly string[]; sources: LoadedBuildfile["sources"] };

const sourcesOf = (manifest: Manifest): LoadedBuildfile["sources"] => ({
  files: [...manifest.inputs.map(([path]) => path), ...manifest.externals],
  searched: manifest.globs.map(([dir]) => dir),
});

/** Compiles `entry` if its cached module is out of date; returns the module's path. */
async function compile(entry: string, options: LoadOptions): Promise<Result<Compiled, SetupFailure>> {
  const dir = compiledModuleDir(entry, options.cacheDir);
  const manifestPath = join(dir, "manifest.json");
  const cached = readValidManifest(manifestPath, entry, options.apiModule);
  if (cached === "damaged") {
    options.onInfo?.("buildfile-cache-damaged", `the compiled ${relative(dirname(entry), entry)} in ${relative(dirname(entry), dir) || dir} was changed or damaged since it was compiled; compiled it again`);
  } else if (cached !== undefined) {
    return ok({ module: join(dir, cached.output), compiled: "cached", sourceDigest: sourceDigestOf(entry, cached.inputs, cached.externals), externals: cached.externals, sources: sourcesOf(cached) });
  }

  makeCacheDirectory(options.cacheDir);
  // What is in the way was not written by rbuild as it is: removed, with one warning (the cache heals itself).
  const cleared = [join(options.cacheDir, "buildfile"), dir].filter((path) => clearTheWay(path, "directory")).map((path) => `${relative(dirname(entry), path) || path} was not a directory`);
  if (clearTheWay(manifestPath, "file")) cleared.push(`${relative(dirname(entry), manifestPath)} was not a file`);
  if (cleared.length > 0) {
    options.onInfo?.("buildfile-cache-damaged", `${cleared.join(" and ")} in the cache of the compiled ${relative(dirname(entry), entry)}; removed it and compiled again`);
  }
  makeDirectories(dir);
  const compiled = await transpile(entry, options.apiModule, join(dir, "buildfile.mjs"));
  if (!compiled.ok) return compiled;
  const output = `${digestBytes(compiled.value.code).slice(0, 32)}.mjs`;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    entry,
    api: options.apiModule,
    inputs: compiled.value.inputs.map((input) => [input, digestFile(input) ?? ""]),
    externals: compiled.value.externals,
    globs: compiled.value.globs.map((glob) => [glob, listingDigest(glob)]),
    output,
  };
  clearTheWay(join(dir, output), "file");
  writeFileAtomically(join(dir, output), compiled.value.code);
  writeFileAtomically(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  removeStaleOutputs(dir, output);
  return ok({ module: join(dir, output), compiled: "transpiled", sourceDigest: sourceDigestOf(entry, manifest.inputs, manifest.externals), externals: manifest.externals, sources: sourcesOf(manifest) });
}

/**
 * Imports the compiled module as the Buildfile's own code: with the workspace
 * root as the working directory (so `readdirSync("packages")` means the same
 * from any subdirectory and with -C), errors it throws from timers or promises
 * nobody awaits going to the load, and a top-level await that can never settle
 * (nothing left for the event loop to do) reported instead of ending the process.
 */
async function evaluate(module: string, file: string, strays: StrayErrors | undefined): Promise<void> {
  const previous = process.cwd();
  process.chdir(dirname(file));
  let onEmptyLoop: (() => void) | undefined;
  const neverSettles = new Promise<never>((_, reject) => {
    // Without a stack: where rbuild noticed it says nothing about where the Buildfile waits.
    onEmptyLoop = () => reject({ message: "its top-level code awaits something that never settles (nothing is left for it to wait on)" });
    process.once("beforeExit", onEmptyLoop);
  });
  // A query makes a second load in the same process evaluate the module again.
  // A new URL for every load: a process that loads the Buildfile again (the daemon) runs it again.
  const load = (): Promise<unknown> => import(`${pathToFileURL(module).href}?load=${randomUUID()}`);
  try {
    await Promise.race([strays === undefined ? load() : strays.run(relative(previous, file) || file, "buildfile", load), neverSettles]);
  } finally {
    process.off("beforeExit", onEmptyLoop!);
    process.chdir(previous);
  }
}

function isMessage(value: unknown): value is { message: string } {
  return typeof value === "object" && value !== null && typeof (value as { message?: unknown }).message === "string";
}

/** Loads the Buildfile at `file` (absolute) and returns the tasks it declares. */
export async function loadBuildfile(file: string, options: LoadOptions): Promise<Result<LoadedBuildfile, SetupFailure>> {
  const compiled = await compile(file, options);
  if (!compiled.ok) return compiled;

  // Map stack traces through the inline source map, so errors point at the .ts source.
  process.setSourceMapsEnabled(true);
  const finish = collectTasks({ cacheDir: options.cacheDir });
  const finishStages = collectStages();
  try {
    await evaluate(compiled.value.module, file, options.strays);
  } catch (error) {
    finishStages();
    finish();
    // A missing export names the module as it was linked: say "rbuild", as the Buildfile does.
    const message = isMessage(error) ? error.message.replaceAll(`'${pathToFileURL(options.apiModule).href}'`, `"rbuild"`) : `threw ${String(error)}`;
    // An error thrown by the rbuild API (a workspace it cannot read) is the Buildfile's call of it.
    const api = `${dirname(options.apiModule)}/`;
    const location = error instanceof Error ? locationFromStack(error, (where) => where.startsWith(api)) : undefined;
    return err({ reason: "buildfile-threw", file, message, ...(location === undefined ? {} : { location }) });
  }
  const { compiled: how, sourceDigest, externals, sources } = compiled.value;
  const stages = finishStages();
  return ok({ file, root: dirname(file), tasks: finish(), stages, compiled: how, sourceDigest, externals, sources });
}

/** Where the compiled module of the Buildfile `file` is cached. */
export function compiledModuleDir(file: string, cacheDir: string): string {
  return join(cacheDir, "buildfile", digestBytes(file).slice(0, 16));
}
