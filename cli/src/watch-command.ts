/**
 * `rbuild watch [targets...]`: build, then build again each time an input of
 * the targets' tasks or the Buildfile changes, until Ctrl-C.
 *
 * It runs in its own Node process with one Engine for all its builds (never in
 * the daemon: a watch is one long build session of one terminal, and the
 * daemon's client hands over one build and its exit status), and each build is
 * `runBuild`'s, with the same reporters, so a watch prints what a run prints.
 *
 * Each build loads the Buildfile again and plans, so a change to it (or to a
 * file it imports) is seen; a Buildfile that does not load is reported, and
 * the watch waits for the next change. What is watched and what a change
 * means is watch-inputs.ts. Events are gathered until DEBOUNCE_MS pass without
 * one, then the next build starts. An edit during a build stops at once the
 * tasks it makes stale (stale-tasks.ts; a Buildfile edit, all of them); the
 * rest may finish, and the next build starts when this one ends.
 *
 * States: building (a build runs; changes are gathered and cancel what they
 * make stale) -> waiting (for a change, then for the quiet period) ->
 * building..., and stopping, from either, on an interrupt: the build, if one
 * runs, stops as `rbuild` does, the watcher and the engine's process helper
 * are closed, and the exit status is 130.
 */
import { existsSync, statSync, type Stats } from "node:fs";
import { dirname, resolve } from "node:path";
import type { StrayErrors } from "@rbuild/core";
import { Engine } from "@rbuild/executor";
import { findBuildfile, type Graph } from "@rbuild/planner";
import { FSWatcher } from "chokidar";
import type { Args } from "./args.js";
import { ExitCode } from "./exit.js";
import { phasesReport, phasesWanted, startPhases } from "./phases.js";
import { runBuild } from "./run-command.js";
import { StaleTasks } from "./stale-tasks.js";
import { processTerminal, type Terminal } from "./terminal.js";
import { WatchedInputs } from "./watch-inputs.js";
import { cacheDirFor, type Workspace } from "./workspace.js";

/** How long the files must stay quiet after a change before the next build starts (an editor's save is several events). */
const DEBOUNCE_MS = 50;

/** Up to this many changed paths are named in the line before a build. */
const NAMED = 3;

export async function watchCommand(args: Args, strays: StrayErrors): Promise<number> {
  return new WatchSession(args, processTerminal(), strays).run();
}

type State = { kind: "building"; stale: StaleTasks } | { kind: "waiting" } | { kind: "stopping" };

class WatchSession {
  readonly #args: Args;
  readonly #terminal: Terminal;
  readonly #strays: StrayErrors;
  readonly #engine: Engine;
  #state: State = { kind: "waiting" };
  #watcher: FSWatcher | undefined;
  #ready: Promise<void> = Promise.resolve();
  /** The paths given to the watcher so far (never taken back: a path no plan reads means nothing). */
  readonly #watched = new Set<string>();
  #inputs: WatchedInputs | undefined;
  /** The workspace of the last Buildfile that loaded: while the Buildfile does not, its sources are watched for the fix. */
  #loaded: Workspace | undefined;
  /** Changed paths (relative to the workspace) since the last build started, in the order seen. */
  #changed: string[] = [];
  #quietTimer: NodeJS.Timeout | undefined;
  /** Each changed file as last reported (mtime, size, inode), so that a repeated report of one write is dropped. */
  readonly #seen = new Map<string, string>();
  /** Called when something the waiting loop waits for happens (the quiet period ends, an interrupt). */
  #wake: (() => void) | undefined;

  constructor(args: Args, terminal: Terminal, strays: StrayErrors) {
    this.#args = args;
    this.#terminal = terminal;
    this.#strays = strays;
    // Resident, as the daemon's: its builds follow one another, so the freshness record stays in memory
    // (written when the watch waits), and its stat pass starts on a thread of its own as a build is asked for.
    this.#engine = new Engine({ strays, resident: true, spawn: terminal.env.RBUILD_SPAWN === "direct" ? "direct" : "helper" });
  }

  async run(): Promise<number> {
    // Listening from the start to the end: an interrupt between two builds stops the watch, not the process.
    const stopListening = this.#terminal.onInterrupt(() => this.#stop());
    try {
      while (true) {
        const stale = new StaleTasks();
        this.#state = { kind: "building", stale };
        this.#changed = [];
        let planned = false;
        if (this.#loaded !== undefined && !this.#args.force) this.#engine.prestat(this.#loaded.cacheDir, this.#loaded.root);
        // RBUILD_PHASES=1: each build's phases line, counted from the end of the quiet period.
        startPhases(phasesWanted(this.#terminal.env));
        const end = await runBuild(this.#args, this.#terminal, this.#strays, this.#engine, {
          planned: (workspace, graph) => {
            planned = true;
            this.#loaded = workspace;
            this.#watch(workspace, graph);
          },
          cancel: (task) => stale.signal(task),
        });
        const phases = phasesReport();
        if (phases !== undefined) this.#terminal.stderr.write(phases);
        if (end.interrupted || this.#stopping()) return ExitCode.Interrupted;
        this.#state = { kind: "waiting" };
        if (!planned) {
          // The Buildfile did not load, or the targets could not be planned: wait for a change to the Buildfile.
          if (end.workspace !== undefined) this.#loaded = end.workspace;
          const watched = this.#loaded ?? this.#unloaded();
          if (watched === undefined) return end.exitCode; // No Buildfile: nothing to watch for.
          this.#watch(watched, undefined);
        }
        await this.#ready;
        if (this.#changed.length === 0 || this.#quietTimer !== undefined) {
          // Nothing to build yet: the records kept in memory are written, for any other rbuild in the workspace.
          this.#engine.idle();
          if (this.#changed.length === 0) this.#say(this.#watchingLine());
          await this.#nextChange();
        }
        if (this.#stopping()) return ExitCode.Interrupted;
        this.#say(`change: ${this.#changedText()} → rebuilding`);
      }
    } finally {
      stopListening();
      clearTimeout(this.#quietTimer);
      await this.#watcher?.close();
      this.#engine.close();
    }
  }

  /** The workspace of a Buildfile that did not load: its file, to watch for the fix; undefined when there is none. */
  #unloaded(): Pick<Workspace, "root" | "cacheDir" | "buildfile" | "buildfileSources"> | undefined {
    const directory = resolve(this.#terminal.cwd, this.#args.directory ?? ".");
    // A -C that names no directory is a usage error, not a Buildfile to wait for.
    const buildfile = statSync(directory, { throwIfNoEntry: false })?.isDirectory() === true ? findBuildfile(directory) : undefined;
    if (buildfile === undefined) return undefined;
    const root = dirname(buildfile);
    return { root, cacheDir: cacheDirFor(root, this.#terminal.env), buildfile, buildfileSources: { files: [], searched: [] } };
  }

  /** Watches the inputs of `graph` (none: the Buildfile's sources only) from now on. */
  #watch(workspace: Pick<Workspace, "root" | "cacheDir" | "buildfile" | "buildfileSources">, graph: Graph | undefined): void {
    const inputs = new WatchedInputs(workspace, graph);
    this.#inputs = inputs;
    const paths = [...new Set(inputs.paths().map(nearestExisting))].filter((path) => !this.#watched.has(path));
    for (const path of paths) this.#watched.add(path);
    if (this.#watcher !== undefined) {
      if (paths.length > 0) this.#watcher.add(paths);
      return;
    }
    const watcher = new FSWatcher({ ignoreInitial: true, ignored: (path: string) => this.#inputs?.ignored(path) ?? false });
    this.#ready = new Promise((resolveReady) => watcher.once("ready", () => resolveReady()));
    watcher.on("all", (_event, path, stats) => this.#changedPath(path, stats));
    watcher.on("error", (error) => this.#say(`watch: ${error instanceof Error ? error.message : String(error)}`));
    watcher.add(paths);
    this.#watcher = watcher;
  }

  #changedPath(path: string, stats: Stats | undefined): void {
    const inputs = this.#inputs;
    if (inputs === undefined || this.#state.kind === "stopping") return;
    // One write can be reported twice (two raw events, each stat'ed when the thread pool gets to it,
    // which on a busy machine may be after the quiet period): a file as it was last seen is no change.
    const state = stats === undefined ? undefined : `${stats.mtimeMs}:${stats.size}:${stats.ino}`;
    if (state !== undefined && this.#seen.get(path) === state) return;
    if (state === undefined) this.#seen.delete(path);
    else this.#seen.set(path, state);
    const change = inputs.change(path);
    if (change.kind === "none") return;
    if (this.#state.kind === "building") {
      if (change.kind === "buildfile") this.#state.stale.cancelAll();
      else this.#state.stale.cancel(change.stale);
    }
    const shown = inputs.display(path);
    if (!this.#changed.includes(shown)) this.#changed.push(shown);
    clearTimeout(this.#quietTimer);
    this.#quietTimer = setTimeout(() => {
      this.#quietTimer = undefined;
      this.#wake?.();
    }, DEBOUNCE_MS);
  }

  /** Resolves once a change has been followed by the quiet period, or on an interrupt. */
  #nextChange(): Promise<void> {
    return new Promise((resolveChange) => {
      const check = (): void => {
        if (this.#state.kind === "stopping" || (this.#changed.length > 0 && this.#quietTimer === undefined)) {
          this.#wake = undefined;
          resolveChange();
        }
      };
      this.#wake = check;
      check();
    });
  }

  /** Read through a method: TypeScript would narrow the field from the last assignment it saw, and an interrupt changes it meanwhile. */
  #stopping(): boolean {
    return this.#state.kind === "stopping";
  }

  #stop(): void {
    // An interrupt while the Buildfile loads comes before the build listens for one: no task of it starts.
    if (this.#state.kind === "building") this.#state.stale.cancelAll();
    this.#state = { kind: "stopping" };
    this.#wake?.();
  }

  #watchingLine(): string {
    const count = this.#inputs?.taskCount ?? 0;
    if (count === 0) return "watching the Buildfile for a change… (Ctrl-C stops)";
    return `watching ${count} ${count === 1 ? "task's" : "tasks'"} inputs… (Ctrl-C stops)`;
  }

  #changedText(): string {
    const named = this.#changed.slice(0, NAMED).join(", ");
    const more = this.#changed.length - NAMED;
    return more > 0 ? `${named} and ${more} more` : named;
  }

  #say(line: string): void {
    this.#terminal.stderr.write(`rbuild: ${line}\n`);
  }
}

/**
 * `path`, or the nearest directory above it that exists: a glob's base not made yet is
 * seen when it appears (the watch of the directory above is recursive).
 */
function nearestExisting(path: string): string {
  for (let at = path; ; at = dirname(at)) if (existsSync(at) || dirname(at) === at) return at;
}
