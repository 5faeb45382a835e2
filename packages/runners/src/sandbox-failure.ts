/**
 * What a failed run in a sandbox (bwrap, or a container engine's) failed of,
 * as its error output and its tree tell: a write where it may not, a read of
 * an undeclared file or of a host file the sandbox lacks, or a signal that
 * the sandbox reported as exit status 128+N (as a shell's `$?` reads; a task
 * that itself exits 129-192 reads the same).
 */
import { constants } from "node:os";
import type { TaskFailure } from "@rbuild/core";
import type { RunOutcome, RunRequest } from "./runner.js";
import type { SandboxTree } from "./sandbox-tree.js";
import { hiddenHostPaths, readOnlyWrites, undeclaredReads } from "./undeclared-reads.js";

/** The signal whose number is `status - 128`, if there is one. */
function signalOf(status: number): string | undefined {
  if (status <= 128) return undefined;
  const number = status - 128;
  return Object.entries(constants.signals).find(([, n]) => n === number)?.[0];
}

/**
 * `failure` as the sandbox explains it from `stderr` (its kept end) and
 * `tree`; `holds`: whether the sandbox holds a host path outside the
 * workspace, where the host is what it holds (not an image).
 */
export function explainedFailure(failure: TaskFailure, stderr: string, request: RunRequest, tree: SandboxTree, holds?: (absolute: string) => boolean): TaskFailure {
  if (failure.reason !== "exit-nonzero" && failure.reason !== "run-threw") return failure;
  const exitCode = failure.reason === "exit-nonzero" ? failure.exitCode : null;
  const writes = readOnlyWrites(stderr, request.root, request.cwd);
  // A writable directory itself (`tree` for `tree/**`) is a mount point: it can be emptied, not removed or renamed over.
  const mounts = writes.filter((path) => tree.isMountPoint(path));
  if (mounts.length > 0) return { reason: "output-mount", task: request.task, paths: mounts };
  if (writes.length > 0) return { reason: "undeclared-write", task: request.task, paths: writes };
  const reads = undeclaredReads(stderr, request.root, request.cwd, (path) => tree.has(path), request.env.PATH);
  if (reads.length > 0) return { reason: "undeclared-read", task: request.task, paths: reads, exitCode };
  const outside = holds === undefined ? [] : hiddenHostPaths(stderr, request.root, holds);
  if (outside.length > 0) return { reason: "outside-sandbox", task: request.task, paths: outside, exitCode };
  const signal = exitCode === null ? undefined : signalOf(exitCode);
  if (signal !== undefined) return { reason: "killed", task: request.task, signal };
  return failure;
}

/**
 * The outcome of a finished sandboxed run: a failure explained (above);
 * files written where no output glob matches refuse it (`undeclared-write`);
 * else its outputs are moved from `tree` into the workspace.
 */
export function finishedRun(outcome: RunOutcome, stderr: string, request: RunRequest, tree: SandboxTree, holds?: (absolute: string) => boolean): RunOutcome {
  if (!outcome.ok) {
    const failure = explainedFailure(outcome.failure, stderr, request, tree, holds);
    return { ok: false, exitCode: failure.reason === "killed" ? null : outcome.exitCode, failure };
  }
  const written = tree.written();
  if (written.stray.length > 0) return { ok: false, exitCode: outcome.exitCode, failure: { reason: "undeclared-write", task: request.task, paths: written.stray } };
  tree.moveBack(written);
  return outcome;
}
