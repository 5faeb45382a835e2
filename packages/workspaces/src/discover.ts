/**
 * Workspace discovery: what npm, pnpm and yarn read for themselves. The root's
 * `package.json` `workspaces` (an array, or yarn's `{ packages: [...] }`) or
 * `pnpm-workspace.yaml`'s `packages` name directory globs (`!` excludes); every
 * matching directory with a `package.json` is a package. A package's internal
 * dependencies are the entries of its dependencies, devDependencies,
 * peerDependencies and optionalDependencies that resolve to another package of
 * the workspace, as the package manager would link them: the `workspace:`
 * protocol, a `file:`/`link:` path to its directory, or the package's name with
 * a version range its version satisfies (`*` and `latest` too). Anything else
 * (an `npm:` alias, a range the local version does not satisfy) comes from the
 * registry and is not an internal dependency.
 *
 * Packages are returned in topological order (dependencies first, ties by
 * directory), so that a loop over them can declare each package's tasks after
 * its dependencies'. A dependency cycle is an error naming its packages.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, posix, resolve } from "node:path";
import { expandGlobs, globMatcher, walkBelowRoot } from "@rbuild/hash";
import type SemverModule from "semver";
import type YamlModule from "yaml";
import { WorkspaceError } from "./errors.js";
import { detectPackageManager, type PackageManager } from "./package-manager.js";

/** Loaded on first use: most workspaces need neither. */
const load = createRequire(import.meta.url);

export interface WorkspacePackage {
  /** The `name` of its package.json. */
  readonly name: string;
  readonly version: string | undefined;
  /** Its directory, relative to the workspace root, with `/` separators. */
  readonly dir: string;
  /** Its package.json `scripts`. */
  readonly scripts: Readonly<Record<string, string>>;
  /** The names of the workspace packages it depends on (every kind of dependency), sorted. */
  readonly dependencies: readonly string[];
  /**
   * Set when its directory is, or is below, a symbolic link below the root: that link.
   * scripts() refuses such a package (the symlink rule, see symlink-rule.ts in @rbuild/hash).
   */
  readonly link?: string;
  /**
   * What its package.json asks to have installed: its dependencies,
   * devDependencies and optionalDependencies, name -> spec as written (the
   * yarn.lock entries of a package are found by these). Set by discoverWorkspace.
   */
  readonly dependencySpecs?: Readonly<Record<string, string>>;
}

export interface Workspace {
  /** Absolute path of the workspace root. */
  readonly root: string;
  /** How the workspace's scripts are run: from `packageManager`, else the lockfile. */
  readonly packageManager: PackageManager;
  /** The root lockfile (relative to the root), if there is one. */
  readonly lockfile: string | undefined;
  /** In topological order: every package after the packages it depends on. */
  readonly packages: readonly WorkspacePackage[];
  /** The root package.json's dependencySpecs (see WorkspacePackage). Set by discoverWorkspace. */
  readonly rootDependencySpecs?: Readonly<Record<string, string>>;
}

const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const;
/** The fields whose entries a package manager installs for the package itself (peers come from its dependents). */
const INSTALLED_FIELDS = ["dependencies", "devDependencies", "optionalDependencies"] as const;

interface Manifest {
  readonly path: string;
  readonly dir: string;
  readonly json: Record<string, unknown>;
}

function readManifest(root: string, dir: string): Manifest {
  const path = dir === "" ? "package.json" : `${dir}/package.json`;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(root, path), "utf8"));
  } catch (error) {
    const detail = error instanceof SyntaxError ? `is not valid JSON (${error.message})` : `cannot be read (${(error as Error).message})`;
    throw new WorkspaceError(`${path} ${detail}`);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new WorkspaceError(`${path} must hold a JSON object`);
  return { path, dir, json: json as Record<string, unknown> };
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) throw new WorkspaceError(`${where} must be a list of directory globs`);
  return value as string[];
}

/** The directory globs the root declares, and which file declared them. */
function workspaceGlobs(root: string, manifest: Manifest): { globs: string[]; from: string } {
  if (existsSync(join(root, "pnpm-workspace.yaml"))) {
    const yaml = load("yaml") as typeof YamlModule;
    let parsed: unknown;
    try {
      parsed = yaml.parse(readFileSync(join(root, "pnpm-workspace.yaml"), "utf8"));
    } catch (error) {
      throw new WorkspaceError(`pnpm-workspace.yaml is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
    const packages = (parsed as { packages?: unknown } | null)?.packages;
    // pnpm without `packages` takes every package below the root.
    return { globs: packages === undefined ? ["**"] : stringList(packages, "pnpm-workspace.yaml `packages`"), from: "pnpm-workspace.yaml" };
  }
  const declared = manifest.json.workspaces;
  if (declared === undefined) throw new WorkspaceError("package.json has no `workspaces` and there is no pnpm-workspace.yaml: this is not a workspace root");
  const list = Array.isArray(declared) ? declared : (declared as { packages?: unknown }).packages;
  return { globs: stringList(list, "package.json `workspaces`"), from: "package.json" };
}

const GLOB_CHARS = /[*?[\]{}()!+@]/;

/**
 * The package directories the globs name, sorted: each a directory with a
 * package.json, never in node_modules, with the symbolic link on the way to it
 * (see WorkspacePackage.link). The common `dir/*` is one listing of `dir` and
 * a stat per entry; other globs crawl (a listing per directory), never through a link.
 */
function packageDirs(root: string, globs: readonly string[]): [dir: string, link: string | undefined][] {
  const clean = (glob: string): string => {
    const body = posix.normalize(glob.replace(/^\.\//, "")).replace(/\/+$/, "");
    return body === "." ? "" : body;
  };
  const includes = globs.filter((glob) => !glob.startsWith("!")).map(clean);
  const excluded = globMatcher(["**/node_modules/**", ...globs.filter((glob) => glob.startsWith("!")).map((glob) => clean(glob.slice(1)))]);
  const hasManifest = (dir: string): boolean => statSync(join(root, dir, "package.json"), { throwIfNoEntry: false })?.isFile() === true;
  const found = new Map<string, string | undefined>();
  for (const body of includes) {
    const base = body === "*" ? "" : body.endsWith("/*") ? body.slice(0, -2) : undefined;
    if (base !== undefined && !GLOB_CHARS.test(base)) {
      let entries;
      try {
        entries = readdirSync(join(root, base), { withFileTypes: true });
      } catch {
        continue;
      }
      const baseLink = walkBelowRoot(root, base, true).link;
      for (const entry of entries) {
        const dir = base === "" ? entry.name : `${base}/${entry.name}`;
        if (!entry.name.startsWith(".") && hasManifest(dir)) found.set(dir, baseLink ?? (entry.isSymbolicLink() ? dir : undefined));
      }
    } else if (!GLOB_CHARS.test(body)) {
      if (body !== "" && hasManifest(body)) found.set(body, walkBelowRoot(root, body, true).link);
    } else {
      for (const file of expandGlobs(root, [body === "" ? "package.json" : `${body}/package.json`], { ignore: ["**/node_modules/**"] })) {
        const dir = posix.dirname(file);
        if (dir !== ".") found.set(dir, undefined);
      }
    }
  }
  const byDir = (a: [string, string | undefined], b: [string, string | undefined]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  return [...found].filter(([dir]) => !excluded(dir) && !excluded(`${dir}/package.json`)).sort(byDir);
}

/** The entries of the manifest's INSTALLED_FIELDS, name -> spec (a name in two fields keeps the later one's). */
function dependencySpecs(json: Record<string, unknown>): Record<string, string> {
  const specs: Record<string, string> = {};
  for (const field of INSTALLED_FIELDS) {
    const declared = json[field];
    if (typeof declared !== "object" || declared === null) continue;
    for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) if (typeof spec === "string") specs[name] = spec;
  }
  return specs;
}

/** Whether `spec`, found in `from`'s manifest under `name`, links the workspace package `to`. */
function linksTo(spec: string, from: Manifest, to: Manifest, version: string | undefined, root: string): boolean {
  if (spec.startsWith("workspace:")) return true;
  if (spec.startsWith("file:") || spec.startsWith("link:")) {
    return resolve(root, from.dir, spec.slice(spec.indexOf(":") + 1)) === resolve(root, to.dir);
  }
  if (spec === "" || spec === "*" || spec === "latest") return true;
  if (version === undefined) return false;
  const semver = load("semver") as typeof SemverModule;
  return semver.validRange(spec) !== null && semver.satisfies(version, spec, { includePrerelease: true });
}

/** Dependencies first, otherwise in directory order; a cycle is an error naming its packages in order. */
function topological(packages: WorkspacePackage[]): WorkspacePackage[] {
  const byName = new Map(packages.map((pkg) => [pkg.name, pkg]));
  const state = new Map<string, "visiting" | "done">();
  const ordered: WorkspacePackage[] = [];
  const path: string[] = [];
  const visit = (pkg: WorkspacePackage): void => {
    const seen = state.get(pkg.name);
    if (seen === "done") return;
    if (seen === "visiting") {
      const cycle = [...path.slice(path.indexOf(pkg.name)), pkg.name];
      throw new WorkspaceError(
        `the workspace's packages depend on each other in a cycle: ${cycle.join(" -> ")}; no order builds them. Remove one of these dependencies (a devDependency is often the one to drop)`,
      );
    }
    state.set(pkg.name, "visiting");
    path.push(pkg.name);
    for (const dep of pkg.dependencies) visit(byName.get(dep)!);
    path.pop();
    state.set(pkg.name, "done");
    ordered.push(pkg);
  };
  for (const pkg of packages) visit(pkg);
  return ordered;
}

/** Reads the workspace rooted at `root` (a directory with the root package.json). */
export function discoverWorkspace(root: string): Workspace {
  const rootManifest = readManifest(root, "");
  const { globs, from } = workspaceGlobs(root, rootManifest);
  const dirs = packageDirs(root, globs);
  const links = new Map(dirs.filter(([, link]) => link !== undefined));
  const manifests = dirs.map(([dir]) => readManifest(root, dir));
  if (manifests.length === 0) throw new WorkspaceError(`the workspace globs in ${from} (${globs.map((glob) => JSON.stringify(glob)).join(", ")}) match no directory with a package.json`);

  const byName = new Map<string, Manifest>();
  for (const manifest of manifests) {
    const name = manifest.json.name;
    if (typeof name !== "string" || name === "") throw new WorkspaceError(`${manifest.path} has no \`name\`: every workspace package needs one, so that others can depend on it`);
    const other = byName.get(name);
    if (other !== undefined) throw new WorkspaceError(`two workspace packages are named ${JSON.stringify(name)}: ${other.path} and ${manifest.path}; rename one`);
    byName.set(name, manifest);
  }

  const packages = manifests.map((manifest): WorkspacePackage => {
    const version = typeof manifest.json.version === "string" ? manifest.json.version : undefined;
    const scripts = manifest.json.scripts;
    const dependencies = new Set<string>();
    for (const field of DEPENDENCY_FIELDS) {
      const declared = manifest.json[field];
      if (typeof declared !== "object" || declared === null) continue;
      for (const [name, spec] of Object.entries(declared as Record<string, unknown>)) {
        const target = byName.get(name);
        if (target === undefined || target === manifest || typeof spec !== "string") continue;
        const targetVersion = typeof target.json.version === "string" ? target.json.version : undefined;
        if (linksTo(spec, manifest, target, targetVersion, root)) dependencies.add(name);
      }
    }
    return {
      name: manifest.json.name as string,
      version,
      dir: manifest.dir,
      scripts: typeof scripts === "object" && scripts !== null ? Object.fromEntries(Object.entries(scripts).filter(([, text]) => typeof text === "string")) : {},
      dependencies: [...dependencies].sort(),
      dependencySpecs: dependencySpecs(manifest.json),
      ...(links.has(manifest.dir) ? { link: links.get(manifest.dir)! } : {}),
    };
  });
  const { packageManager, lockfile } = detectPackageManager(root, rootManifest.json);
  return { root, packageManager, lockfile, packages: topological(packages), rootDependencySpecs: dependencySpecs(rootManifest.json) };
}
