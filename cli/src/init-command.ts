/**
 * `rbuild init`: in a workspace root without a Buildfile, writes a Buildfile.ts
 * translated from turbo.json (or, without one, from the packages' common
 * scripts) and adds `.rbuild/` to .gitignore. The translation is pure
 * (init/); this file reads, writes and says what it did. It never changes an
 * existing Buildfile: it refuses, and says to remove it first.
 */
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { Result } from "@rbuild/core";
import { discoverWorkspace, WorkspaceError, type Workspace } from "@rbuild/workspaces";
import type { Args } from "./args.js";
import { ExitCode } from "./exit.js";
import { buildfileText } from "./init/buildfile-text.js";
import { translateCommonScripts } from "./init/common-scripts.js";
import { cacheIgnoreAddition } from "./init/gitignore-entry.js";
import { declaredTasks, firstTarget, noteCount, type InitPlan } from "./init/plan.js";
import { translateTurbo, type PackageTurboConfig, type TurboConfig } from "./init/turbo-json.js";

const TURBO_FILES = ["turbo.json", "turbo.jsonc"];

function refuse(message: string): number {
  process.stderr.write(`rbuild: error: ${message}\n`);
  return ExitCode.Usage;
}

/** The first of turbo.json and turbo.jsonc in `dir` (relative to `root`), if any. */
function turboConfig(root: string, dir: string): TurboConfig | undefined {
  for (const name of TURBO_FILES) {
    const file = dir === "" ? name : `${dir}/${name}`;
    if (existsSync(join(root, file))) return { file, text: readFileSync(join(root, file), "utf8") };
  }
  return undefined;
}

function plan(root: string, ws: Workspace): Result<InitPlan, string> {
  const turbo = turboConfig(root, "");
  if (turbo === undefined) return translateCommonScripts(ws);
  const packageConfigs: PackageTurboConfig[] = ws.packages.flatMap((pkg) => {
    const config = turboConfig(root, pkg.dir);
    return config === undefined ? [] : [{ ...config, pkg: pkg.name }];
  });
  return translateTurbo(turbo, packageConfigs, ws);
}

/** Whether `dir` looks like a workspace root: a pnpm-workspace.yaml, or a package.json with `workspaces`. */
function looksLikeRoot(dir: string): boolean {
  if (existsSync(join(dir, "pnpm-workspace.yaml"))) return true;
  try {
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { workspaces?: unknown };
    return typeof manifest === "object" && manifest !== null && manifest.workspaces !== undefined;
  } catch {
    return false; // None here, or not JSON: not one.
  }
}

/** The nearest directory above `dir` that looks like a workspace root, if any. */
function rootAbove(dir: string): string | undefined {
  for (let at = dirname(dir); ; at = dirname(at)) {
    if (looksLikeRoot(at)) return at;
    if (dirname(at) === at) return undefined;
  }
}

export function initCommand(args: Args): number {
  const cwd = process.cwd();
  const root = resolve(cwd, args.directory ?? ".");
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) return refuse(`-C/--directory: ${root} is not a directory.`);
  const buildfile = join(root, "Buildfile.ts");
  const shown = (file: string): string => relative(cwd, file) || file;
  if (existsSync(buildfile)) {
    return refuse(`${shown(buildfile)} already exists, and rbuild init does not change a Buildfile: remove it first to write a new one.`);
  }
  const above = rootAbove(root);
  // In a package of a workspace, say where its root is and how to init there.
  const there = above === undefined ? "" : ` The workspace root above it is ${shown(above)}: run \`rbuild init -C ${relative(cwd, above) || "."}\` to write the Buildfile there.`;
  const notRoot = `rbuild init runs in the root of an npm, pnpm or yarn workspace, and this is not one: looked for a package.json with \`workspaces\` (npm, yarn) or a pnpm-workspace.yaml in ${root}.${there}`;
  if (!existsSync(join(root, "package.json"))) return refuse(notRoot);
  let ws: Workspace;
  try {
    ws = discoverWorkspace(root);
  } catch (error) {
    if (!(error instanceof WorkspaceError)) throw error;
    if (/not a workspace root/.test(error.message)) return refuse(notRoot);
    return refuse(`${error.message}; fix it, then run rbuild init again.`);
  }
  const planned = plan(root, ws);
  if (!planned.ok) return refuse(`${planned.error}.`);

  writeFileSync(buildfile, buildfileText(planned.value), { flag: "wx" });
  const declared = declaredTasks(planned.value);
  const notes = noteCount(planned.value);
  const noted = notes === 0 ? "" : `; ${notes} ${notes === 1 ? "note" : "notes"} to check (the lines with "rbuild init:")`;
  let text = `wrote ${shown(buildfile)} from ${planned.value.source}: ${declared.length === 1 ? "task" : "tasks"} ${declared.join(", ")}${noted}\n`;

  const gitignore = join(root, ".gitignore");
  // latin1 reads every byte as one character: the patterns looked for are ASCII.
  const existing = existsSync(gitignore) ? readFileSync(gitignore, "latin1") : undefined;
  const addition = cacheIgnoreAddition(existing);
  if (addition !== undefined) {
    appendFileSync(gitignore, addition);
    text += `${existing === undefined ? "wrote" : "added .rbuild/ to"} ${shown(gitignore)}${existing === undefined ? " ignoring .rbuild/" : ""}\n`;
  }
  text += `next: rbuild ${args.directory === undefined ? "" : `-C ${args.directory} `}${firstTarget(planned.value)}\n`;
  process.stdout.write(text);
  return ExitCode.Ok;
}
