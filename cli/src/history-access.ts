/**
 * What `rbuild history`, `errors` and `show` share: the workspace's store,
 * found without loading the Buildfile (loading a 1,000-task one takes some
 * 300 ms; these commands answer in a fraction of that), the check that a task
 * name is one the history or the Buildfile knows, and how times are shown.
 * The Buildfile is loaded only to tell an unknown task from one that has not
 * run yet, and to suggest names near a wrong one.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { err, ok, type Result, type SetupFailure, type StrayErrors } from "@rbuild/core";
import { findBuildfile, suggest } from "@rbuild/planner";
import { knownTasks, knowsTask, Store } from "@rbuild/store";
import { guardingCache } from "./cache-access.js";
import { cacheDirFor } from "./cache-dir.js";
import { ExitCode, reportSetupFailures } from "./exit.js";
import type { TextOut } from "./terminal.js";
import type { Workspace } from "./workspace.js";

/**
 * Where a history command writes and what it runs with: this process's
 * streams, directory and environment, or those of the client the rbuild
 * daemon answers (daemon-query.ts). The answer is the same bytes either way.
 */
export interface QueryIO {
  readonly stdout: TextOut;
  readonly stderr: TextOut;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly strays: StrayErrors;
  /** Told of the workspace checkTask loaded (the daemon decides from it whether it may stay). */
  readonly onWorkspace?: (workspace: Workspace) => void;
}

/** This process's own streams, directory and environment. */
export function processIO(strays: StrayErrors): QueryIO {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env, strays };
}

export interface HistoryPlace {
  readonly root: string;
  readonly cacheDir: string;
}

/** Where the workspace (the nearest Buildfile at or above the directory asked for) keeps its store. */
export function historyPlace(
  directory: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  from: string = process.cwd(),
): Result<HistoryPlace, SetupFailure> {
  const cwd = resolve(from, directory ?? ".");
  if (directory !== undefined && !statSync(cwd, { throwIfNoEntry: false })?.isDirectory()) {
    return err({ reason: "usage", message: `-C/--directory: ${cwd} is not a directory.` });
  }
  const buildfile = findBuildfile(cwd);
  if (buildfile === undefined) return err({ reason: "buildfile-not-found", cwd });
  const root = dirname(buildfile);
  const cacheDir = cacheDirFor(root, env);
  if (!existsSync(join(cacheDir, "index.sqlite"))) return err({ reason: "no-history", cacheDir });
  return ok({ root, cacheDir });
}

/** Opens the store to read its history; what it heals on the way is said on stderr. */
export function openHistoryStore(place: HistoryPlace, stderr: TextOut = process.stderr): Store {
  return Store.open({ dir: place.cacheDir, onInfo: (_code, message) => stderr.write(`rbuild: ${message}\n`) });
}

/**
 * Whether `task` is one to ask the history about: one it knows, or one the
 * Buildfile declares (it has not run yet). Otherwise an unknown task, with the
 * names near it that either knows; or, when the Buildfile does not load, its
 * errors (it may declare the task).
 */
export async function checkTask(
  store: Store,
  task: string,
  directory: string | undefined,
  io: Pick<QueryIO, "cwd" | "env" | "strays" | "onWorkspace">,
): Promise<Result<"recorded" | "not-run", SetupFailure[]>> {
  if (knowsTask(store, task)) return ok("recorded");
  const names = new Set(knownTasks(store));
  // Loaded only here: what loads a Buildfile is most of the CLI, and the commands' answers do not need it.
  const { openWorkspace } = await import("./workspace.js");
  const workspace = await openWorkspace(directory, io.env, { from: io.cwd, strays: io.strays, writesCache: false, onInfo: () => {} });
  // A Buildfile that does not load cannot say whether it declares the task: its errors are what to fix first.
  if (!workspace.ok) return err(workspace.error);
  io.onWorkspace?.(workspace.value);
  if (workspace.value.definitions.tasks.has(task)) return ok("not-run");
  for (const name of workspace.value.definitions.tasks.keys()) names.add(name);
  return err([{ reason: "unknown-target", name: task, suggestions: suggest(task, names) }]);
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** A time as the user's clock shows it: `2026-12-02 13:04:05`. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Rows as columns padded to their widest cell (the last column is not padded). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

/**
 * Finds the workspace `args` names (from `io.cwd`), opens its history and
 * hands the store (and where it is) to `use`, closing it after; a problem finding it, or
 * `usage` (a problem with the command's own options, said once the
 * workspace is found), is reported to `io.stderr` as a usage error.
 */
export async function withHistoryStore(
  args: { readonly directory?: string | undefined },
  io: QueryIO,
  usage: string | undefined,
  use: (store: Store, place: HistoryPlace) => Promise<number> | number,
): Promise<number> {
  const { cwd, stderr } = io;
  const place = historyPlace(args.directory, io.env, cwd);
  if (!place.ok) {
    reportSetupFailures([place.error], cwd, stderr);
    return ExitCode.Usage;
  }
  if (usage !== undefined) {
    reportSetupFailures([{ reason: "usage", message: usage }], cwd, stderr);
    return ExitCode.Usage;
  }
  return guardingCache(
    place.value.cacheDir,
    cwd,
    async () => {
      const store = openHistoryStore(place.value, stderr);
      try {
        return await use(store, place.value);
      } finally {
        store.close();
      }
    },
    stderr,
  );
}
