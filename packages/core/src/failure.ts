/**
 * Every expected failure, as data. Each member names a `reason`; `describeFailure`
 * turns it into a message that says what happened and what to do. Reporters
 * decide how to show it; nothing here prints.
 */
import { relative } from "node:path";
import type { SourceLocation } from "./location.js";
import { unreachable } from "./result.js";

/** Failures that stop a build before anything runs: the CLI exits with status 2. */
export type SetupFailure =
  | { reason: "usage"; message: string }
  /** `--since`: git could not say what changed (no git, no repository, an unknown ref, a shallow clone); the message says what to do. */
  | { reason: "git-changes"; message: string }
  | { reason: "buildfile-not-found"; cwd: string }
  | { reason: "buildfile-syntax"; location: SourceLocation; message: string; lineText?: string }
  | { reason: "buildfile-threw"; file: string; location?: SourceLocation; message: string }
  | { reason: "unknown-target"; name: string; suggestions: string[] }
  | { reason: "duplicate-task"; name: string; locations: (SourceLocation | undefined)[] }
  | { reason: "unknown-dep"; task: string; dep: string; suggestions: string[]; location?: SourceLocation }
  | { reason: "cycle"; path: string[]; location?: SourceLocation }
  | { reason: "invalid-field"; task: string; field: string; message: string; location?: SourceLocation }
  /** A `stage()` that cannot be planned: an unknown task or stage, a task in two stages, a cycle of stages (see stage.ts). */
  | { reason: "invalid-stage"; stage: string; message: string; location?: SourceLocation }
  /** A `pool()` declared with a name, size or `shared` that cannot be used; at the pool() call (see pool.ts). */
  | { reason: "invalid-pool"; pool: string; message: string; location?: SourceLocation }
  /** A path in the cache directory this user cannot write (`owner`, `user` and `group` are ids, when known). */
  | { reason: "cache-not-writable"; cacheDir: string; path: string; code: string; owner?: number; user?: number; group?: number }
  /** Something other than a regular file at the path of the build lock (or of its takeover file): no build could ever take the lock. */
  | { reason: "lock-not-a-file"; path: string; kind: "directory" | "symlink" | "other" }
  /** `rbuild history`, `errors` or `show` where no build has recorded anything yet. */
  | { reason: "no-history"; cacheDir: string }
  /** `rbuild show` of a run the history does not have: the task has `runs` runs, `asked` is 0 for the newest. */
  | { reason: "no-such-run"; task: string; runs: number; asked: number }
  /** `--stub` (or rbuild/testing's `stubs`) names no task of the Buildfile. */
  | { reason: "unknown-stub"; name: string; suggestions: string[] }
  /**
   * A stub rbuild will not put in place: on a pure task (its stubbed result would
   * reach the cache through its dependents' keys as if real), a group (no run to
   * replace), or a task this build does not include.
   */
  | { reason: "stub-refused"; task: string; why: "pure" | "group" | "not-in-build"; targets: string[] }
  | {
      reason: "overlapping-outputs";
      first: { task: string; glob: string };
      second: { task: string; glob: string };
      path: string;
      location?: SourceLocation;
    };

/** Failures of one task while the build runs: the CLI exits with status 1 (130 when interrupted). */
export type TaskFailure =
  | { reason: "exit-nonzero"; task: string; exitCode: number }
  | { reason: "killed"; task: string; signal: string }
  | { reason: "spawn-failed"; task: string; message: string }
  /** What started its command (the local runner's process helper) died while it ran: its command was stopped. */
  | { reason: "helper-died"; task: string; message: string }
  | { reason: "run-threw"; task: string; message: string; location?: SourceLocation }
  /** Its function's promise was pending when nothing was left that could settle it (the event loop had drained). */
  | { reason: "never-settled"; task: string }
  | { reason: "undecodable-path"; task: string; field: "inputs" | "outputs"; paths: readonly string[] }
  /**
   * A glob the symlink rule refuses (see symlink-rule.ts in @rbuild/hash): its directory part passes
   * through `link` (`through`), or, for an input, it matches `link`, a link to a directory (`matched`), or it
   * matches `link`, a link that leads back to itself (`loop`).
   */
  | { reason: "through-symlink"; task: string; field: "inputs" | "outputs"; glob: string; link: string; target: string; kind: "through" | "matched" | "loop" }
  /** An output its own user cannot read (a file of mode 000, a directory another user owns), relative to the workspace. */
  | { reason: "unreadable-output"; task: string; path: string }
  /**
   * It ran in a sandbox (packages/runners, sandbox-runner.ts) and failed saying a workspace path was
   * missing that exists outside it: a file (relative to the workspace) it reads but does not declare.
   */
  | { reason: "undeclared-read"; task: string; paths: readonly string[]; exitCode: number | null }
  /**
   * It ran in a sandbox and failed saying host paths (absolute, outside the workspace) were missing that
   * exist outside it: files of a tool the sandbox does not hold (a version manager's shim runs them).
   */
  | { reason: "outside-sandbox"; task: string; paths: readonly string[]; exitCode: number | null }
  /** It ran in a sandbox and wrote files (relative to the workspace) that no output glob matches: they would not be stored. */
  | { reason: "undeclared-write"; task: string; paths: readonly string[] }
  /**
   * It ran in a sandbox and could not remove or replace a directory (relative to the workspace) its outputs
   * are written in: there it is a mount point, which stays (see sandbox-tree.ts in @rbuild/runners).
   */
  | { reason: "output-mount"; task: string; paths: readonly string[] }
  /** A task in a pool that could not take its lease (see pool-slots.ts in @rbuild/executor). */
  | { reason: "pool-lease"; task: string; pool: string; message: string }
  /** A transform (`transform: dep`) that could not start from its dep's outputs; the message says why and what to do. */
  | { reason: "transform-base"; task: string; dep: string; message: string }
  /**
   * It ran elsewhere (a Concourse one-off build, packages/concourse) and that went wrong apart from its
   * command's exit status: the build could not be started or followed, or its result is not in the remote cache.
   */
  | { reason: "remote-run"; task: string; message: string }
  | { reason: "interrupted"; task: string }
  /**
   * `rbuild run <target> --only` takes the target's deps from the cache, and this one is not there
   * (`missing`; `remote`: a remote cache was asked too) or can never be (`impure`). `targets`: the tasks it runs.
   */
  | { reason: "not-cached"; task: string; targets: readonly string[]; why: "missing" | "impure"; remote: boolean };

export type Failure = SetupFailure | TaskFailure;

export interface DescribeOptions {
  /** Paths in messages are shown relative to this directory. */
  readonly cwd: string;
}

function where(location: SourceLocation | undefined, options: DescribeOptions): string {
  if (location === undefined) return "";
  const file = relative(options.cwd, location.file) || location.file;
  return `${file}:${location.line}:${location.column}: `;
}

/** Up to three paths, and how many more. */
function listed(paths: readonly string[]): string {
  return paths.slice(0, 3).join(", ") + (paths.length > 3 ? ` and ${paths.length - 3} more` : "");
}

/** The globs to declare for `paths`: each path itself when few, else the directories they are in, with `/**`. */
function globsFor(paths: readonly string[]): string {
  if (paths.length <= 3) return paths.map((path) => `"${path}"`).join(", ");
  const dirs = [...new Set(paths.map((path) => (path.includes("/") ? `${path.slice(0, path.lastIndexOf("/"))}/**` : path)))];
  return dirs.slice(0, 3).map((glob) => `"${glob}"`).join(", ") + (dirs.length > 3 ? ` (and ${dirs.length - 3} more)` : "");
}

function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return "";
  return ` Did you mean ${suggestions.map((s) => `"${s}"`).join(" or ")}?`;
}

/** The message a user reads for `failure`: where, what, and what to do. One line, or a few. */
export function describeFailure(failure: Failure, options: DescribeOptions): string {
  switch (failure.reason) {
    case "usage":
      return `${failure.message}\nRun \`rbuild --help\` for usage.`;
    case "git-changes":
      return failure.message;
    case "buildfile-not-found":
      return `No Buildfile.ts found in ${failure.cwd} or any directory above it. Create one, or run rbuild from inside a workspace (or pass -C DIR).`;
    case "buildfile-syntax": {
      const frame = failure.lineText === undefined ? "" : `\n    ${failure.lineText}\n    ${" ".repeat(Math.max(0, failure.location.column - 1))}^`;
      return `${where(failure.location, options)}${failure.message}${frame}`;
    }
    case "buildfile-threw": {
      const file = relative(options.cwd, failure.file) || failure.file;
      const at = failure.location === undefined ? `${file}: ` : where(failure.location, options);
      return `${at}${failure.message}\n(thrown while loading ${file}; fix the Buildfile and run again)`;
    }
    case "unknown-target":
      return `Unknown task "${failure.name}".${didYouMean(failure.suggestions)} Run \`rbuild list\` to see every task.`;
    case "unknown-stub":
      return `Cannot stub "${failure.name}": no task has that name.${didYouMean(failure.suggestions)} Run \`rbuild list\` to see every task.`;
    case "stub-refused": {
      const why = failure.why;
      switch (why) {
        case "pure":
          return (
            `Cannot stub "${failure.task}": it is a pure task. A stub stands in for work on the world (deploys, uploads: tasks with \`pure: false\`); ` +
            `a pure task's result is cached under its key, where a stand-in's would be handed to later builds as the real one. ` +
            `Let it run (or come from the cache), or mark it \`pure: false\` if it does touch the world.`
          );
        case "group":
          return `Cannot stub "${failure.task}": it is a group (a task without \`run\`); there is nothing to replace. Stub the tasks it groups.`;
        case "not-in-build":
          return `Cannot stub "${failure.task}": it is not part of this build (of ${failure.targets.join(", ")}); add it to the targets or drop the stub.`;
        default:
          return unreachable(why);
      }
    }
    case "duplicate-task": {
      const places = failure.locations
        .map((l) => (l === undefined ? undefined : where(l, options).replace(/: $/, "")))
        .filter((l) => l !== undefined);
      const at = places.length > 0 ? ` (at ${places.join(" and ")})` : "";
      return `Task name "${failure.name}" is declared more than once${at}. Task names must be unique: rename one of them.`;
    }
    case "unknown-dep":
      return `${where(failure.location, options)}Task "${failure.task}" depends on "${failure.dep}", but no task has that name.${didYouMean(failure.suggestions)}`;
    case "cycle":
      return `${where(failure.location, options)}Dependency cycle: ${failure.path.join(" -> ")}. A task cannot depend on itself, directly or through other tasks; remove one of these deps.`;
    case "invalid-field":
      return `${where(failure.location, options)}Task "${failure.task}": \`${failure.field}\` ${failure.message}`;
    case "invalid-stage":
      return `${where(failure.location, options)}Stage "${failure.stage}": ${failure.message}`;
    case "invalid-pool":
      return `${where(failure.location, options)}Pool "${failure.pool}": ${failure.message}`;
    case "overlapping-outputs": {
      const { first, second } = failure;
      return (
        `${where(failure.location, options)}Tasks "${first.task}" and "${second.task}" both declare ${failure.path} as an output ` +
        `("${first.task}" through "${first.glob}", "${second.task}" through "${second.glob}"). Each would delete and store the other's files: ` +
        `narrow one of the globs, or leave the other task's files out with a "!" glob.`
      );
    }
    case "no-history":
      return `No builds are recorded in ${failure.cacheDir} yet; \`rbuild history\`, \`errors\` and \`show\` read what builds record. Run a build first, e.g. \`rbuild <task>\`.`;
    case "no-such-run":
      if (failure.runs === 0) return `Task "${failure.task}" has no recorded run yet: build it first (\`rbuild ${failure.task}\`).`;
      return `Task "${failure.task}" has ${failure.runs} recorded run${failure.runs === 1 ? "" : "s"}, so --run ${failure.asked} is past the oldest: use --run 0 (the last) to ${failure.runs - 1}; \`rbuild history --task ${failure.task}\` lists them.`;
    case "lock-not-a-file": {
      const what = failure.kind === "directory" ? "a directory" : failure.kind === "symlink" ? "a symbolic link" : "not a regular file";
      const remove = failure.kind === "directory" ? `rm -r ${failure.path}` : `rm ${failure.path}`;
      const file = failure.path.endsWith(".takeover") ? "the file rbuild holds while it takes over a stale build lock" : "rbuild's build lock (a file)";
      return `${failure.path} is ${what}, not ${file}: nothing else may be at that path. Remove it (\`${remove}\`) and run again.`;
    }
    case "cache-not-writable": {
      const { cacheDir, path, owner, user, group } = failure;
      const own = "or use a cache of your own: set RBUILD_CACHE_DIR to a directory you can write.";
      if (owner !== undefined && user !== undefined && owner !== user) {
        const whose = owner === 0 ? "root" : `uid ${owner}`;
        const chown = `sudo chown -R ${user}${group === undefined ? "" : `:${group}`} ${cacheDir}`;
        const what = path === cacheDir ? `Cannot write in the cache directory ${cacheDir}: it is` : `Cannot write ${path}: the cache directory ${cacheDir} is`;
        return `${what} owned by ${whose}, and rbuild runs as uid ${user}. Run rbuild as ${whose}, make the cache yours with \`${chown}\`, ${own}`;
      }
      return `Cannot write ${path === cacheDir ? `in the cache directory ${cacheDir}` : path} (${failure.code}). Make the cache directory writable (\`chmod -R u+rwX ${cacheDir}\`), ${own}`;
    }
    case "exit-nonzero":
      return `Task "${failure.task}" failed: its command exited with code ${failure.exitCode}.`;
    case "killed":
      return `Task "${failure.task}" failed: its command was killed by ${failure.signal}.`;
    case "spawn-failed":
      return `Task "${failure.task}" could not start: ${failure.message}`;
    case "helper-died":
      return `Task "${failure.task}" failed: ${failure.message}`;
    case "run-threw":
      return `${where(failure.location, options)}Task "${failure.task}" failed: ${failure.message}`;
    case "never-settled":
      return (
        `Task "${failure.task}" failed: its function returned a promise that never settles: nothing is left that could resolve it. ` +
        "Make sure what it awaits settles: a promise whose resolve is never called, or one that only an unref()ed timer or socket would settle, never does."
      );
    case "interrupted":
      return `Task "${failure.task}" was interrupted.`;
    case "undeclared-read": {
      const status = failure.exitCode === null ? "it failed" : `it exited with code ${failure.exitCode}`;
      return (
        `Task "${failure.task}" read ${listed(failure.paths)}, which ${failure.paths.length === 1 ? "is" : "are"} not among its inputs or its deps' outputs: ` +
        `in its sandbox ${failure.paths.length === 1 ? "it is" : "they are"} missing, and ${status}. Add ${globsFor(failure.paths)} to its \`inputs\` (or make the task that writes ${failure.paths.length === 1 ? "it" : "them"} one of its deps).`
      );
    }
    case "outside-sandbox": {
      const status = failure.exitCode === null ? "it failed" : `it exited with code ${failure.exitCode}`;
      const one = failure.paths.length === 1;
      return (
        `Task "${failure.task}" looked for ${listed(failure.paths)}, outside the workspace, and ${status}: ${one ? "it is" : "they are"} not in its sandbox, which holds the system directories ` +
        "(/usr, /etc, /opt) and the tools on its PATH (each directory on PATH, or the prefix above one named bin or shims), not the rest of the host. " +
        "A tool that runs files from elsewhere (a rustup proxy, a version manager's shim) needs them: put the directory of the program itself on the task's PATH, or run the task outside the sandbox (`runner: \"local\"`)."
      );
    }
    case "undeclared-write":
      return (
        `Task "${failure.task}" wrote ${listed(failure.paths)}, which no glob of its \`outputs\` matches: ${failure.paths.length === 1 ? "it" : "they"} would not be stored or restored. ` +
        `Add ${globsFor(failure.paths)} to its \`outputs\`, or write scratch files under /tmp (a fresh directory in the sandbox).`
      );
    case "output-mount": {
      const [dir, more] = [failure.paths[0] ?? "", failure.paths.length > 1 ? " (and the others)" : ""];
      return (
        `Task "${failure.task}" could not remove or replace ${listed(failure.paths)}: in its sandbox ${failure.paths.length === 1 ? "that directory is" : "those directories are"} where its outputs are written, and ${failure.paths.length === 1 ? "it stays" : "they stay"}. ` +
        `Empty it and write into it instead (\`mkdir -p ${dir} && find ${dir} -mindepth 1 -delete\`${more}, then, say, \`cp -R <from>/. ${dir}/\`), or run the task outside the sandbox (\`runner: "local"\`).`
      );
    }
    case "remote-run":
      return `Task "${failure.task}" failed: ${failure.message}`;
    case "pool-lease":
      return `Task "${failure.task}" did not start: it needs a lease on pool "${failure.pool}": ${failure.message}`;
    case "transform-base":
      return `Task "${failure.task}" did not start from the outputs of "${failure.dep}": ${failure.message}.`;
    case "undecodable-path": {
      const [one, more] = [failure.paths.slice(0, 3).join(", "), failure.paths.length > 3 ? ` and ${failure.paths.length - 3} more` : ""];
      const them = failure.paths.length === 1 ? "it" : "them";
      return `Task "${failure.task}": its ${failure.field} match ${one}${more}, whose name is not valid UTF-8; rbuild keys and stores paths as UTF-8 text and cannot cache such a file exactly. Rename ${them}, or leave ${them} out with a "!" glob.`;
    }
    case "through-symlink":
      return throughSymlink(failure);
    case "unreadable-output":
      return `Task "${failure.task}": its output ${failure.path} cannot be read by this user, so it cannot be stored. Make the task leave it readable (chmod u+r, or chown it to this user), or leave it out of \`outputs\` with a "!" glob.`;
    case "not-cached":
      return describeNotCached(failure);
    default:
      return unreachable(failure);
  }
}

function describeNotCached(failure: Extract<TaskFailure, { reason: "not-cached" }>): string {
  const targets = failure.targets.map((name) => `"${name}"`).join(" and ");
  const plain = failure.targets.join(" ");
  if (failure.why === "impure") {
    return `Task "${failure.task}" is impure (pure: false): its results are never cached, so --only cannot take it from the cache for ${targets}. Run \`rbuild run ${plain}\` without --only, or make "${failure.task}" pure if its outputs depend only on its inputs.`;
  }
  const where = failure.remote ? "the local or the remote cache" : "the local cache (and no --remote was given)";
  const share = failure.remote ? " with the same --remote" : "";
  return `Task "${failure.task}" is not in ${where}, and --only takes it from there for ${targets} instead of running it. Build it first: \`rbuild run ${failure.task}\`${share}; or run \`rbuild run ${plain}\` without --only to build what it needs.`;
}

/** The symlink rule's refusal: which glob, which link, and the edits that fix it. */
function throughSymlink(failure: Extract<Failure, { reason: "through-symlink" }>): string {
  const { task, field, glob, link, target } = failure;
  const shown = `${link} -> ${target}`;
  if (failure.kind === "loop") {
    const fix = field === "outputs" ? "store it. Make the task point it at a real file" : "read it. Remove the link, point it at a real file";
    return `Task "${task}": its ${field} glob "${glob}" matches ${link}, a symbolic link that leads back to itself (${shown}): following it never reaches a file, so rbuild cannot ${fix}, or leave it out with a "!" glob.`;
  }
  if (failure.kind === "matched") {
    return (
      `Task "${task}": its ${field} glob "${glob}" matches ${link}, a symbolic link to a directory (${shown}); rbuild does not read through ` +
      `linked directories, so an edit below it would go unseen. Declare the directory it points to as an input (when it is inside the workspace), ` +
      `leave the link out with a "!" glob, or make ${link} a real directory.`
    );
  }
  const doing = field === "outputs" ? "clear or store outputs" : "read inputs";
  return (
    `Task "${task}": its ${field} glob "${glob}" passes through ${link}, a symbolic link (${shown}); rbuild does not ${doing} through ` +
    `a symbolic link, which could reach files outside the workspace. Declare the path it points to instead (when it is inside the workspace), ` +
    `or make ${link} a real directory.`
  );
}
